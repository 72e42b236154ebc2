//! CSRF, cookie flags, throttling.

use waybill::domain::Role;

use crate::helpers::*;

#[actix_web::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "csrf@example.com");
    let v = app.visitor();
    v.get("/login").await;
    let fields = [("email", "csrf@example.com"), ("password", PASSWORD)];
    let r = v.post_form("/login", &fields).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("This form has expired"));
    let mut forged = vec![("csrf_token", "0".repeat(64))];
    forged.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(v.post_form("/login", &forged).await.status(), 403);
    // Another visitor's token is worthless in this session.
    let stolen = app.visitor().csrf("/login").await;
    let r = v
        .post_form("/login", &[("csrf_token", &stolen), fields[0], fields[1]])
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(v.get("/seller").await.status(), 303, "still signed out");

    let seller = app.signed_in(Role::Seller, "victim@example.com").await;
    assert_eq!(seller.post_form("/logout", &[]).await.status(), 403);
    assert_eq!(
        seller
            .post_form("/seller/settings/api-keys", &[("name", "x")])
            .await
            .status(),
        403
    );
    assert_eq!(seller.get("/seller").await.status(), 200, "still signed in");
}

#[actix_web::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "cookie@example.com");
    let r = app.visitor().login("cookie@example.com", PASSWORD).await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("waybill_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    assert!(
        !cookie.contains(PASSWORD) && !cookie.contains("cookie@example.com"),
        "session content is encrypted"
    );
}

#[actix_web::test]
async fn cookies_are_secure_when_served_over_https() {
    let app = spawn_app_with(Options {
        base_url: Some("https://waybill.example.com".into()),
        ..Default::default()
    })
    .await;
    let r = app.visitor().get("/login").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[actix_web::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "target@example.com");
    for _ in 0..5 {
        let r = app
            .visitor()
            .login("target@example.com", "guess-guess-guess")
            .await;
        assert_eq!(r.status(), 401);
    }
    // Even the right password is refused while locked, from any browser.
    let r = app.visitor().login("Target@Example.com", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Too many failed attempts for this account. Try again in 15 minutes"),
        "{page}"
    );
    // Other accounts are unaffected.
    app.create_user(Role::Seller, "bystander@example.com");
    assert_eq!(
        app.visitor()
            .login("bystander@example.com", PASSWORD)
            .await
            .status(),
        303
    );
}

#[actix_web::test]
async fn a_successful_sign_in_clears_earlier_failures() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "typo@example.com");
    // Twice: four failures, then the right password still signs in (and clears them).
    for _ in 0..2 {
        for _ in 0..4 {
            app.visitor()
                .login("typo@example.com", "fat-fingered-pw")
                .await;
        }
        assert_eq!(
            app.visitor()
                .login("typo@example.com", PASSWORD)
                .await
                .status(),
            303
        );
    }
}
