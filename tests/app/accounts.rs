//! Seller sign-up, sign-in, sign-out, admin-created users, password reset.

use waybill::domain::Role;

use crate::helpers::*;

const SIGNUP: [(&str, &str); 6] = [
    ("store_name", "Shenzhen Lights Co."),
    ("name", "Li Wei"),
    ("email", "Li.Wei@Example.com"),
    ("phone", "+86 138 0013 8000"),
    ("password", "lantern-festival-2026"),
    ("password_confirm", "lantern-festival-2026"),
];

#[actix_web::test]
async fn a_seller_signs_up_and_lands_on_the_dashboard() {
    let app = spawn_app().await;
    let v = app.visitor();
    let r = v.submit("/signup", "/signup", &SIGNUP).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/seller");
    let page = v.get_html("/seller").await;
    assert!(page.contains("Shenzhen Lights Co."), "{page}");
    assert!(page.contains("Welcome to Waybill"));
    // Stored lower-case, hashed with argon2id.
    let user = waybill::db::users::find_by_email(&mut app.conn(), "li.wei@example.com")
        .unwrap()
        .unwrap();
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert!(!user.password_hash.contains("lantern"));
}

#[actix_web::test]
async fn every_invalid_field_gets_its_own_message() {
    let app = spawn_app().await;
    let v = app.visitor();
    let fields = [
        ("store_name", ""),
        ("name", ""),
        ("email", "not-an-email"),
        ("phone", "12"),
        ("password", "short"),
        ("password_confirm", "short"),
    ];
    let r = v.submit("/signup", "/signup", &fields).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    for (id, msg) in [
        ("store_name-error", "Enter the store name."),
        ("name-error", "Enter the contact name."),
        ("email-error", "Enter a valid e-mail address"),
        ("phone-error", "Enter a phone number of 6 to 20 digits"),
        ("password-error", "at least 10 characters"),
    ] {
        let at = page
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id} in {page}"));
        assert!(
            page[at..at + 200].contains(msg),
            "{id}: {}",
            &page[at..at + 200]
        );
    }
    // What was typed stays, except passwords.
    assert!(page.contains("value=\"not-an-email\""));
    assert!(!page.contains("value=\"short\""));
    let r = v
        .submit(
            "/signup",
            "/signup",
            &[
                ("password", "long enough one"),
                ("password_confirm", "long enough two"),
            ],
        )
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The two passwords do not match.")
    );
}

#[actix_web::test]
async fn e_mail_is_unique_whatever_its_case() {
    let app = spawn_app().await;
    app.visitor().submit("/signup", "/signup", &SIGNUP).await;
    let mut again = SIGNUP;
    again[2] = ("email", "LI.WEI@EXAMPLE.COM");
    let r = app.visitor().submit("/signup", "/signup", &again).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("An account with this e-mail already exists."));
}

#[actix_web::test]
async fn wrong_credentials_never_say_which_part_was_wrong() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "known@example.com");
    let wrong_password = app
        .visitor()
        .login("known@example.com", "not the password")
        .await;
    let unknown_email = app.visitor().login("nobody@example.com", PASSWORD).await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    let (a, b) = (
        wrong_password.text().await.unwrap(),
        unknown_email.text().await.unwrap(),
    );
    let msg = "The e-mail or password is not right.";
    assert!(a.contains(msg) && b.contains(msg));
}

#[actix_web::test]
async fn sign_in_renews_the_session_and_sign_out_ends_it() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "renew@example.com");
    let v = app.visitor();
    let before = v.csrf("/login").await;
    let r = v.login("renew@example.com", PASSWORD).await;
    assert_eq!(r.status(), 303);
    let after = v.csrf("/seller").await;
    assert_ne!(before, after, "the CSRF token is renewed at sign-in");
    let r = v.post_form("/logout", &[("csrf_token", &after)]).await;
    assert_eq!(location(&r), "/login?signed_out=1");
    assert!(
        v.get_html("/login?signed_out=1")
            .await
            .contains("You have signed out.")
    );
    assert_eq!(v.get("/seller").await.status(), 303);
}

#[actix_web::test]
async fn an_admin_adds_a_courier_who_can_then_sign_in() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin, "ops@example.com").await;
    let bad = admin
        .submit(
            "/admin/users",
            "/admin/users",
            &[("role", "pilot"), ("email", "x")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let page = bad.text().await.unwrap();
    assert!(page.contains("id=\"role-error\"") && page.contains("id=\"email-error\""));
    let r = admin
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("role", "courier"),
                ("email", "Rider@Example.com"),
                ("name", "Zhang Min"),
                ("phone", "13900139000"),
                ("password", "bicycle-bell-2026"),
                ("password_confirm", "bicycle-bell-2026"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        admin
            .get_html("/admin/users")
            .await
            .contains("rider@example.com")
    );
    let courier = app.visitor();
    let r = courier
        .login("rider@example.com", "bicycle-bell-2026")
        .await;
    assert_eq!(location(&r), "/courier");
}

#[actix_web::test]
async fn password_reset_by_single_use_link() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "forgetful@example.com");
    let other_device = app.signed_in(Role::Seller, "bystander@example.com").await;
    let old_session = app.visitor();
    old_session.login("forgetful@example.com", PASSWORD).await;
    assert_eq!(old_session.get("/seller").await.status(), 200);

    let v = app.visitor();
    let r = v
        .submit(
            "/password/forgot",
            "/password/forgot",
            &[("email", "Forgetful@example.com")],
        )
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("If an account exists for Forgetful@example.com")
    );
    let mail = eventually(10, "the reset mail", || mails_in(&app.mail_dir).pop()).await;
    assert!(mail.contains("To: forgetful@example.com"));
    assert!(mail.contains("Subject: Reset your Waybill password"));
    let token = reset_token_in(&mail);
    assert!(mail.contains(&format!("{}/password/reset?token={token}", app.address)));

    let page = format!("/password/reset?token={token}");
    let r = v
        .submit(
            &page,
            "/password/reset",
            &[
                ("token", &token),
                ("password", "x"),
                ("password_confirm", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = v
        .submit(
            &page,
            "/password/reset",
            &[
                ("token", &token),
                ("password", "a brand new secret"),
                ("password_confirm", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/login?reset=1");

    // Once only.
    assert_eq!(v.get(&page).await.status(), 410);
    // The old password is gone, the new one works, and sessions opened before are over.
    assert_eq!(
        app.visitor()
            .login("forgetful@example.com", PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        location(
            &app.visitor()
                .login("forgetful@example.com", "a brand new secret")
                .await
        ),
        "/seller"
    );
    assert_eq!(old_session.get("/seller").await.status(), 303);
    assert_eq!(
        other_device.get("/seller").await.status(),
        200,
        "other accounts keep their sessions"
    );
}

#[actix_web::test]
async fn reset_requests_for_unknown_e_mails_look_the_same_and_send_nothing() {
    let app = spawn_app().await;
    let r = app
        .visitor()
        .submit(
            "/password/forgot",
            "/password/forgot",
            &[("email", "ghost@example.com")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("If an account exists for ghost@example.com")
    );
    assert!(app.outbox().is_empty());
    assert_eq!(
        app.visitor()
            .get("/password/reset?token=forged")
            .await
            .status(),
        410
    );
}

#[actix_web::test]
async fn an_expired_reset_link_is_refused() {
    let app = spawn_app().await;
    let user = app.create_user(Role::Seller, "late@example.com");
    let token = "e".repeat(64);
    let past = waybill::db::now() - chrono::Duration::minutes(1);
    waybill::db::password_resets::insert(
        &mut app.conn(),
        &waybill::security::sha256_hex(&token),
        &user.id,
        past,
    )
    .unwrap();
    let v = app.visitor();
    assert_eq!(
        v.get(&format!("/password/reset?token={token}"))
            .await
            .status(),
        410
    );
    let r = v
        .submit(
            "/password/forgot",
            "/password/reset",
            &[
                ("token", &token),
                ("password", "another fine pass"),
                ("password_confirm", "another fine pass"),
            ],
        )
        .await;
    assert_eq!(r.status(), 410);
    assert_eq!(
        location(&app.visitor().login("late@example.com", PASSWORD).await),
        "/seller"
    );
}

/// Sends every login at once (all in flight before the first answer is read); the pending
/// statuses, in the order given.
async fn start_burst(
    app: &TestApp,
    email: &str,
    passwords: &[String],
) -> Vec<actix_web::rt::task::JoinHandle<u16>> {
    let v = std::sync::Arc::new(app.visitor());
    let token = v.csrf("/login").await;
    passwords
        .iter()
        .map(|pw| {
            let (v, token, email, pw) = (v.clone(), token.clone(), email.to_string(), pw.clone());
            actix_web::rt::spawn(async move {
                let form = [
                    ("csrf_token", token.as_str()),
                    ("email", &email),
                    ("password", &pw),
                ];
                v.post_form("/login", &form).await.status().as_u16()
            })
        })
        .collect()
}

async fn login_burst(app: &TestApp, email: &str, passwords: &[String]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for r in start_burst(app, email, passwords).await {
        statuses.push(r.await.unwrap());
    }
    statuses
}

#[actix_web::test]
async fn parallel_wrong_passwords_get_no_more_tries_than_the_limit() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "besieged@example.com");
    let wrong: Vec<String> = (0..40).map(|i| format!("guess number {i}")).collect();
    let statuses = login_burst(&app, "besieged@example.com", &wrong).await;
    let tried = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (tried, refused),
        (waybill::services::accounts::MAX_FAILURES, 35),
        "{statuses:?}"
    );
    // Locked now, even with the right password.
    let r = app.visitor().login("besieged@example.com", PASSWORD).await;
    assert_eq!(r.status(), 429);
}

#[actix_web::test]
async fn the_right_password_inside_a_burst_after_the_limit_is_refused() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "burst@example.com");
    let wrong: Vec<String> = (0..19).map(|i| format!("guess number {i}")).collect();
    let pending = start_burst(&app, "burst@example.com", &wrong).await;
    // The right password goes in once the limit's places are taken, while the wrong guesses
    // are still being hashed: it must not slip through before they are judged.
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    eventually(30, "the limit's places to be taken", || {
        let taken = waybill::db::login_failures::since(&mut app.conn(), "burst@example.com", epoch)
            .unwrap()
            .len();
        (taken >= waybill::services::accounts::MAX_FAILURES).then_some(())
    })
    .await;
    let right = app.visitor().login("burst@example.com", PASSWORD).await;
    assert_eq!(right.status(), 429);
    let mut statuses = Vec::new();
    for r in pending {
        statuses.push(r.await.unwrap());
    }
    assert!(!statuses.contains(&303), "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        waybill::services::accounts::MAX_FAILURES,
        "{statuses:?}"
    );
}
