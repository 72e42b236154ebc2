//! The main account flows in a real headless Chromium, driven over WebDriver.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use waybill::domain::Role;

use crate::helpers::*;

/// A chromedriver of this test's own, stopped when the test ends.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser() -> (Driver, Client) {
    let port = free_port();
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} (apt-get install chromium-driver): {e}"));
    let driver = Driver { child, port };
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=412,915"],
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    let mut last = None;
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => return (driver, c),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_string()
}

async fn login(c: &Client, app: &TestApp, email: &str, password: &str) {
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
    assert_eq!(path(&c).await, "/seller");
    let h1 = c
        .find(Locator::Css("main h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Yiwu Toys 义乌玩具");

    click(&c, "form.signout button").await;
    assert_eq!(path(&c).await, "/login");
    assert!(c.source().await.unwrap().contains("You have signed out."));

    login(&c, &app, "chen@example.com", "kite-flying-2026").await;
    assert_eq!(path(&c).await, "/seller");
    let who = c
        .find(Locator::Css(".who"))
        .await
        .unwrap()
        .attr("title")
        .await
        .unwrap();
    assert_eq!(who.as_deref(), Some("chen@example.com"));
    c.close().await.unwrap();
}

#[actix_web::test]
async fn a_wrong_password_shows_an_error_and_keeps_the_e_mail() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "careful@example.com");
    let (_driver, c) = browser().await;
    login(&c, &app, "careful@example.com", "not-my-password").await;
    assert_eq!(path(&c).await, "/login");
    let err = c
        .find(Locator::Css("#login-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.contains("The e-mail or password is not right"), "{err}");
    let kept = c
        .find(Locator::Css("#email"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
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
    assert_eq!(path(&c).await, "/seller/settings");
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Forbidden");
    assert!(
        c.source()
            .await
            .unwrap()
            .contains("You do not have access to this page")
    );
    c.goto(&format!("{}/courier", app.address)).await.unwrap();
    assert_eq!(
        c.find(Locator::Css("main h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Today's pickups"
    );
    c.close().await.unwrap();
}
