//! The main account flows in a real headless Chromium, driven over WebDriver.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use waybill::domain::Role;

use crate::helpers::*;

/// A chromedriver of this test's own, stopped when the test ends.
pub struct Driver {
    child: Child,
    port: u16,
    /// The browser's own profile folder: every Chromium process of this browser (the browser,
    /// its renderers, its helpers) carries it on its command line.
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Killing chromedriver leaves the Chromium it started running, reparented to init:
        // each browser test left a browser and its renderers behind. Its processes are found
        // by their profile folder.
        let _ = Command::new("pkill")
            .args(["-KILL", "-f", &self.profile.display().to_string()])
            .status();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn browser() -> (Driver, Client) {
    browser_sized(412, 915).await
}

/// A headless Chromium whose window is `w` × `h` CSS pixels (a desktop window is at least
/// 500 px wide: for a phone use `phone`).
pub async fn browser_sized(w: u32, h: u32) -> (Driver, Client) {
    start_browser(w, h, false).await
}

/// A headless Chromium emulating a phone whose viewport is `w` × `h` CSS pixels.
pub async fn phone(w: u32, h: u32) -> (Driver, Client) {
    start_browser(w, h, true).await
}

async fn start_browser(w: u32, h: u32, mobile: bool) -> (Driver, Client) {
    // A port picked free may be taken by a test server before chromedriver binds it: then
    // chromedriver exits or another server answers, and a new port is tried.
    let mut last = None;
    for _ in 0..5 {
        match try_start_browser(w, h, mobile).await {
            Ok(started) => return started,
            Err(e) => last = Some(e),
        }
    }
    panic!("chromedriver did not start: {last:?}");
}

async fn try_start_browser(w: u32, h: u32, mobile: bool) -> Result<(Driver, Client), String> {
    let port = free_port();
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} (apt-get install chromium-driver): {e}"));
    let profile = std::env::temp_dir().join(format!(
        "waybill-test-chromium-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut driver = Driver {
        child,
        port,
        profile,
    };
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", format!("--window-size={w},{h}"),
                     format!("--user-data-dir={}", driver.profile.display())],
        }),
    );
    if mobile {
        caps["goog:chromeOptions"]["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": {"width": w, "height": h, "pixelRatio": 3.0}
        });
    }
    let url = format!("http://127.0.0.1:{}", driver.port);
    let mut last = None;
    for _ in 0..100 {
        if let Ok(Some(status)) = driver.child.try_wait() {
            return Err(format!("chromedriver exited ({status}) on port {port}"));
        }
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => return Ok((driver, c)),
            // Something else answers on the port: not chromedriver.
            Err(e @ fantoccini::error::NewSessionError::NotW3C(_)) => {
                return Err(format!("port {port} is taken: {e:?}"));
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("no session on port {port}: {last:?}"))
}

/// Waits for an element: after a click the next page may still be loading.
pub async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    let found = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await;
    match found {
        Ok(el) => el,
        Err(e) => panic!("no {css} on {:?}: {e}", c.current_url().await.ok()),
    }
}

pub async fn text(c: &Client, css: &str) -> String {
    find(c, css).await.text().await.unwrap()
}

/// Waits until the browser is on `expected` (a path), or fails with where it is.
pub async fn wait_path(c: &Client, expected: &str) {
    for _ in 0..200 {
        if path(c).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(path(c).await, expected);
}

/// How wide the page is and how wide the window is, in CSS pixels (wider: it scrolls sideways).
pub async fn overflow(c: &Client) -> (i64, i64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth]",
            vec![],
        )
        .await
        .unwrap();
    let v: Vec<i64> = serde_json::from_value(v).unwrap();
    (v[0], v[1])
}

/// The booking form's recipient and parcel fields for a 0.8 kg parcel to Paris.
const TO_PARIS: [(&str, &str); 10] = [
    ("#recipient_name", "Marie Dubois"),
    ("#recipient_street1", "12 Rue de Rivoli"),
    ("#recipient_city", "Paris"),
    ("#recipient_postal_code", "75004"),
    ("#recipient_country", "FR"),
    ("#recipient_phone", "+33 1 23 45 67 89"),
    ("#weight_kg", "0.8"),
    ("#length_cm", "25"),
    ("#width_cm", "18"),
    ("#height_cm", "8"),
];

pub async fn fill(c: &Client, css: &str, text: &str) {
    let el = find(c, css).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    find(c, css).await.click().await.unwrap();
}

pub async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_string()
}

pub async fn login(c: &Client, app: &TestApp, email: &str, password: &str) {
    c.goto(&format!("{}/login", app.address)).await.unwrap();
    fill(c, "#email", email).await;
    fill(c, "#password", password).await;
    click(c, "form[action='/login'] button[type=submit]").await;
}

#[actix_web::test]
async fn a_seller_signs_up_signs_out_and_signs_back_in() {
    let app = spawn_app().await;
    let (_driver, c) = browser().await;
    c.goto(&format!("{}/signup", app.address)).await.unwrap();
    fill(&c, "#store_name", "Yiwu Toys 义乌玩具").await;
    fill(&c, "#name", "Chen Jie").await;
    fill(&c, "#email", "chen@example.com").await;
    fill(&c, "#phone", "+86 579 8888 0000").await;
    fill(&c, "#password", "kite-flying-2026").await;
    fill(&c, "#password_confirm", "kite-flying-2026").await;
    click(&c, "form[action='/signup'] button[type=submit]").await;
    wait_path(&c, "/seller").await;
    let h1 = text(&c, "main h1").await;
    assert_eq!(h1, "Yiwu Toys 义乌玩具");

    click(&c, "form.signout button").await;
    wait_path(&c, "/login").await;
    assert!(c.source().await.unwrap().contains("You have signed out."));

    login(&c, &app, "chen@example.com", "kite-flying-2026").await;
    wait_path(&c, "/seller").await;
    let who = find(&c, ".who").await.attr("title").await.unwrap();
    assert_eq!(who.as_deref(), Some("chen@example.com"));
    c.close().await.unwrap();
}

#[actix_web::test]
async fn a_wrong_password_shows_an_error_and_keeps_the_e_mail() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "careful@example.com");
    let (_driver, c) = browser().await;
    login(&c, &app, "careful@example.com", "not-my-password").await;
    wait_path(&c, "/login").await;
    let err = text(&c, "#login-error").await;
    assert!(err.contains("The e-mail or password is not right"), "{err}");
    let kept = find(&c, "#email").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("careful@example.com"));
    c.close().await.unwrap();
}

#[actix_web::test]
async fn a_courier_opening_a_seller_page_gets_403() {
    let app = spawn_app().await;
    app.create_user(Role::Courier, "rider@example.com");
    let (_driver, c) = browser().await;
    c.goto(&format!("{}/seller/settings", app.address))
        .await
        .unwrap();
    assert_eq!(
        path(&c).await,
        "/login",
        "strangers are sent to sign in first"
    );
    fill(&c, "#email", "rider@example.com").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form[action='/login'] button[type=submit]").await;
    wait_path(&c, "/seller/settings").await;
    let h1 = text(&c, "h1").await;
    assert_eq!(h1, "Forbidden");
    assert!(
        c.source()
            .await
            .unwrap()
            .contains("You do not have access to this page")
    );
    c.goto(&format!("{}/courier", app.address)).await.unwrap();
    let today = seller_today();
    assert_eq!(text(&c, "main h1").await, format!("Pickups today, {today}"));
    c.close().await.unwrap();
}

#[actix_web::test]
async fn a_seller_tops_up_through_the_sandbox_gateway() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "topup@example.com");
    let (_driver, c) = browser().await;
    login(&c, &app, "topup@example.com", PASSWORD).await;
    click(&c, "nav a[href='/wallet']").await;
    wait_path(&c, "/wallet").await;
    assert_eq!(text(&c, "#balance").await, "¥0.00");
    fill(&c, "#amount", "abc").await;
    click(&c, "#top-up").await;
    let err = text(&c, "#amount-error").await;
    assert!(err.contains("Enter an amount like 100.00"), "{err}");
    fill(&c, "#amount", "888.80").await;
    click(&c, "#top-up").await;
    wait_path(&c, "/sandbox/checkout").await;
    assert_eq!(text(&c, "#amount").await, "¥888.80");
    click(&c, "#pay").await;
    wait_path(&c, "/wallet").await;
    assert_eq!(text(&c, "#balance").await, "¥888.80");
    let flash = text(&c, ".flash-ok").await;
    assert_eq!(flash, "Top-up of ¥888.80 received.");
    let row = text(&c, "#entries tbody tr").await;
    assert!(row.contains("Top-up") && row.contains("¥888.80"), "{row}");
    c.close().await.unwrap();
}

#[actix_web::test]
async fn a_seller_books_a_shipment_through_the_form_and_sees_it_listed() {
    let app = spawn_app().await;
    app.load_channels();
    let seller = app.create_user(Role::Seller, "shipper@example.com").id;
    app.post(
        &seller,
        waybill::services::wallet::Kind::TopUp,
        100_000,
        "fund",
    )
    .unwrap();
    let (_driver, c) = browser().await;
    login(&c, &app, "shipper@example.com", PASSWORD).await;
    // First a sender address, from the address book.
    c.goto(&format!("{}/seller/addresses", app.address))
        .await
        .unwrap();
    for (id, v) in [
        ("#name", "王芳 Wang Fang"),
        ("#street1", "南山区科技园 1号"),
        ("#city", "Shenzhen"),
        ("#postal_code", "518057"),
        ("#phone", "+86 755 1234 5678"),
    ] {
        fill(&c, id, v).await;
    }
    click(&c, "form[action='/seller/addresses'] button[type=submit]").await;
    assert!(text(&c, "#addresses").await.contains("王芳 Wang Fang"));

    click(&c, "nav a[href='/shipments/new']").await;
    wait_path(&c, "/shipments/new").await;
    for (id, v) in [
        ("#recipient_name", "John Smith"),
        ("#recipient_street1", "1 Market St"),
        ("#recipient_city", "San Francisco"),
        ("#recipient_state", "CA"),
        ("#recipient_postal_code", "94105"),
        ("#recipient_country", "US"),
        ("#recipient_phone", "+1 415 555 0100"),
        ("#weight_kg", "1.2"),
        ("#length_cm", "30"),
        ("#width_cm", "20"),
        ("#height_cm", "10"),
        ("#reference", "SHOP-777"),
        ("#item1_description", "Silk scarf"),
        ("#item1_quantity", "2"),
        ("#item1_value", "15"),
        ("#item1_weight_g", "300"),
        ("#item1_hs_code", "621410"),
    ] {
        fill(&c, id, v).await;
    }
    click(&c, "#get-quotes").await;
    find(&c, "#quotes").await;
    let quotes = text(&c, "#quotes").await;
    assert!(
        quotes.contains("DHL Express Worldwide") && quotes.contains("Does not deliver to US."),
        "{quotes}"
    );
    click(&c, "#channel-DHL-EXPRESS").await;
    click(&c, "#book").await;
    let flash = text(&c, ".flash-ok").await;
    assert!(flash.starts_with("Booked: tracking number "), "{flash}");
    let tn = text(&c, "#tracking-number").await;
    assert!(
        waybill::domain::tracking_number::TrackingFormat::Dhl.accepts(&tn),
        "{tn}"
    );
    assert_eq!(text(&c, "#status").await, "Booked");
    assert!(text(&c, "#recipient").await.contains("John Smith"));
    click(&c, "nav a[href='/shipments']").await;
    wait_path(&c, "/shipments").await;
    let table = text(&c, "#shipments").await;
    assert!(
        table.contains(&tn) && table.contains("SHOP-777") && table.contains("DHL-EXPRESS"),
        "{table}"
    );
    c.close().await.unwrap();
}

/// The seller's main pages fit a phone: nothing scrolls sideways at 390 × 844, the booking
/// form with its quotes included.
#[actix_web::test]
async fn seller_pages_fit_a_phone_without_sideways_scrolling() {
    let app = spawn_app().await;
    let _ = app.seller_with_address("phone@example.com").await;
    let (_driver, c) = phone(390, 844).await;
    login(&c, &app, "phone@example.com", PASSWORD).await;
    wait_path(&c, "/seller").await;
    // The main menu takes its own rows under the brand: two at most, not a column five deep.
    let nav = c
        .execute(
            "return document.querySelector('.top nav').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(nav < 80.0, "menu {nav} px tall");
    for page in [
        "/seller",
        "/shipments",
        "/shipments/new",
        "/wallet",
        "/seller/settings",
    ] {
        c.goto(&format!("{}{page}", app.address)).await.unwrap();
        let (scroll, width) = overflow(&c).await;
        assert!(
            scroll <= width,
            "{page} is {scroll} px wide in a {width} px window"
        );
    }
    // The form with every quote shown.
    c.goto(&format!("{}/shipments/new", app.address))
        .await
        .unwrap();
    for (css, v) in TO_PARIS {
        fill(&c, css, v).await;
    }
    click(&c, "#get-quotes").await;
    find(&c, "#quotes").await;
    let (scroll, width) = overflow(&c).await;
    assert!(scroll <= width, "quotes: {scroll} px in {width} px");
}

/// The ids of the sender address form's place fields, in the order the page has them.
async fn place_fields(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('#address-fields input')).map(e => e.id)",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// The id of the field that has the keyboard focus.
async fn focused(c: &Client) -> String {
    let v = c
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

#[actix_web::test]
async fn a_chinese_sender_address_is_typed_province_first() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "sheng@example.com");
    let (_driver, c) = browser_sized(1024, 900).await;
    login(&c, &app, "sheng@example.com", PASSWORD).await;
    wait_path(&c, "/seller").await;
    c.goto(&format!("{}/seller/addresses", app.address))
        .await
        .unwrap();
    let province_first = crate::customs_labels::PROVINCE_FIRST;
    assert_eq!(place_fields(&c).await, province_first);
    // Typed as it is written, each Tab moving one place down.
    fill(&c, "#name", "王小明").await;
    click(&c, "#state").await;
    for (id, v) in [
        ("state", "广东省"),
        ("city", "深圳市"),
        ("district", "南山区"),
        ("street1", "科技园南路 18号"),
    ] {
        assert_eq!(focused(&c).await, id);
        let el = c.active_element().await.unwrap();
        el.send_keys(v).await.unwrap();
        el.send_keys(&fantoccini::key::Key::Tab.to_string())
            .await
            .unwrap();
    }
    assert_eq!(focused(&c).await, "street2");
    fill(&c, "#postal_code", "518057").await;
    fill(&c, "#phone", "13800138000").await;

    // Another country: the place fields turn street first, and back.
    fill(&c, "#country", "US").await;
    click(&c, "#phone").await;
    assert_eq!(
        place_fields(&c).await,
        [
            "street1",
            "street2",
            "district",
            "city",
            "state",
            "postal_code",
            "country"
        ]
    );
    fill(&c, "#country", "CN").await;
    click(&c, "#phone").await;
    assert_eq!(place_fields(&c).await, province_first);
    assert_eq!(
        find(&c, "#district").await.prop("value").await.unwrap(),
        Some("南山区".into()),
        "nothing typed is lost"
    );

    click(&c, "form[action='/seller/addresses'] button[type=submit]").await;
    let list = text(&c, "#addresses").await;
    assert!(
        list.contains("王小明, 南山区 科技园南路 18号, 深圳市 CN"),
        "{list}"
    );
    assert!(
        list.contains("Wang Xiaoming, Keji Yuan Nan Lu 18 Hao, Nanshan Qu, Shenzhen"),
        "the Latin version is made and shown: {list}"
    );
    c.close().await.unwrap();
}

/// A seller quotes, changes the weight and presses "Book and pay" without quoting again:
/// nothing is booked, the page shows the price for the new weight, and booking that charges
/// exactly the price shown.
#[actix_web::test]
async fn booking_after_changing_the_weight_charges_only_a_price_shown() {
    let app = spawn_app().await;
    let (_, seller) = app.seller_with_address("reweigh@example.com").await;
    let (_driver, c) = browser_sized(1024, 900).await;
    login(&c, &app, "reweigh@example.com", PASSWORD).await;
    wait_path(&c, "/seller").await;
    c.goto(&format!("{}/shipments/new", app.address))
        .await
        .unwrap();
    for (css, v) in TO_PARIS.into_iter().chain([
        ("#reference", "FR-19"),
        ("#item1_description", "Tea set"),
        ("#item1_quantity", "1"),
        ("#item1_value", "30"),
        ("#item1_weight_g", "700"),
        ("#item1_hs_code", "691110"),
    ]) {
        fill(&c, css, v).await;
    }
    let price = "label[for='channel-CNPOST-EPACKET'] .price";
    click(&c, "#get-quotes").await;
    find(&c, "#quotes").await;
    let quoted = text(&c, price).await;
    let before = app.balance(&seller);

    click(&c, "#channel-CNPOST-EPACKET").await;
    fill(&c, "#weight_kg", "1.9").await;
    click(&c, "#book").await;
    let alert = text(&c, "#booking-alert").await;
    assert!(alert.contains("Nothing was charged"), "{alert}");
    assert_eq!(app.balance(&seller), before, "nothing charged");
    assert!(
        waybill::db::shipments::find_open_by_reference(&mut app.conn(), &seller, "FR-19")
            .unwrap()
            .is_none(),
        "nothing booked"
    );
    let fresh = text(&c, price).await;
    assert_ne!(fresh, quoted, "the price for 1.9 kg is shown");
    assert_eq!(
        find(&c, "#weight_kg").await.prop("value").await.unwrap(),
        Some("1.9".into())
    );

    // The seller has now seen the price for 1.9 kg: booking charges exactly that.
    assert!(
        find(&c, "#channel-CNPOST-EPACKET")
            .await
            .prop("checked")
            .await
            .unwrap()
            .is_some_and(|v| v == "true"),
        "the chosen channel stays chosen"
    );
    click(&c, "#book").await;
    let flash = text(&c, ".flash-ok").await;
    assert!(
        flash.contains(&format!("{fresh} was charged")),
        "{flash} (shown: {fresh})"
    );
    assert_eq!(cny(before - app.balance(&seller)).to_string(), fresh);
    c.goto(&format!("{}/shipments", app.address)).await.unwrap();
    let table = text(&c, "#shipments").await;
    assert!(table.contains("FR-19") && table.contains(&fresh), "{table}");
    app.assert_ledger_consistent(&seller);
    c.close().await.unwrap();
}
