//! Sessions live on the server: a copied cookie stops working when its session ends, by
//! signing out, a password change, an operator's "sign out everywhere" or running out.

use diesel::prelude::*;
use waybill::db::schema::sessions;
use waybill::domain::Role;

use crate::helpers::*;

/// Signs a new user of `role` in; returns the browser and a copy of its session cookie.
async fn signed_in_with_copy(app: &TestApp, role: Role, email: &str) -> (Visitor, Visitor) {
    app.create_user(role, email);
    let v = app.visitor();
    let r = v.login(email, PASSWORD).await;
    assert_eq!(r.status(), 303, "login of {email} failed");
    let copy = app.visitor_with_cookie(&session_cookie(&r));
    (v, copy)
}

fn user_id(app: &TestApp, email: &str) -> String {
    waybill::db::users::find_by_email(&mut app.conn(), email)
        .unwrap()
        .unwrap()
        .id
        .into_string()
}

/// Moves the user's sessions back in time, as if they had been idle (or opened) that long ago.
fn age_sessions(app: &TestApp, email: &str, seen_ago: i64, created_ago: i64) {
    let id = user_id(app, email);
    let now = waybill::db::now();
    diesel::update(sessions::table.filter(sessions::user_id.eq(id)))
        .set((
            sessions::last_seen_at.eq(now - chrono::Duration::minutes(seen_ago)),
            sessions::created_at.eq(now - chrono::Duration::minutes(created_ago)),
        ))
        .execute(&mut *app.conn())
        .unwrap();
}

async fn status(v: &Visitor, path: &str) -> u16 {
    v.get(path).await.status().as_u16()
}

#[actix_web::test]
async fn a_copied_cookie_stops_working_when_its_owner_signs_out() {
    let app = spawn_app().await;
    let (v, copy) = signed_in_with_copy(&app, Role::Seller, "leaver@example.com").await;
    assert_eq!(
        status(&copy, "/seller").await,
        200,
        "the copy works at first"
    );
    let token = v.csrf("/seller").await;
    let r = v.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(location(&r), "/login?signed_out=1");
    let r = copy.get("/seller").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=%2Fseller");
    // Signing in again makes a new session; the old copy stays dead.
    assert_eq!(v.login("leaver@example.com", PASSWORD).await.status(), 303);
    assert_eq!(status(&v, "/seller").await, 200);
    assert_eq!(status(&copy, "/seller").await, 303);
}

#[actix_web::test]
async fn a_password_reset_ends_every_session_of_the_account() {
    let app = spawn_app().await;
    let (_v, copy) = signed_in_with_copy(&app, Role::Seller, "reset-me@example.com").await;
    let (_w, bystander) = signed_in_with_copy(&app, Role::Seller, "bystander@example.com").await;
    assert_eq!(status(&copy, "/seller").await, 200);
    let v = app.visitor();
    v.submit(
        "/password/forgot",
        "/password/forgot",
        &[("email", "reset-me@example.com")],
    )
    .await;
    let mail = eventually(10, "the reset mail", || mails_in(&app.mail_dir).pop()).await;
    let token = reset_token_in(&mail);
    let r = v
        .submit(
            &format!("/password/reset?token={token}"),
            "/password/reset",
            &[
                ("token", &token),
                ("password", "a whole new secret"),
                ("password_confirm", "a whole new secret"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/login?reset=1");
    assert_eq!(status(&copy, "/seller").await, 303);
    assert_eq!(
        status(&bystander, "/seller").await,
        200,
        "other accounts stay"
    );
}

#[actix_web::test]
async fn an_operator_signs_a_user_out_everywhere() {
    let app = spawn_app().await;
    let (_phone, phone_copy) = signed_in_with_copy(&app, Role::Seller, "lost@example.com").await;
    // A second device of the same seller.
    let laptop = app.visitor();
    assert_eq!(
        laptop.login("lost@example.com", PASSWORD).await.status(),
        303
    );
    let (_o, other) = signed_in_with_copy(&app, Role::Seller, "other@example.com").await;
    let admin = app.signed_in(Role::Admin, "ops@example.com").await;
    let id = user_id(&app, "lost@example.com");
    let action = format!("/admin/users/{id}/sign-out");

    let page = admin.get_html("/admin/users").await;
    let form_at = page
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no sign-out form in {page}"));
    let row_start = page[..form_at].rfind("<tr>").unwrap();
    assert!(
        page[row_start..form_at].contains("<td class=\"num\">2</td>"),
        "two open sessions: {}",
        &page[row_start..form_at]
    );

    // Not without the form's token, and not by a seller.
    assert_eq!(admin.post_form(&action, &[]).await.status(), 403);
    let seller_token = laptop.csrf("/seller").await;
    let r = laptop
        .post_form(&action, &[("csrf_token", &seller_token)])
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(status(&phone_copy, "/seller").await, 200);

    let token = csrf_in(&page);
    let r = admin.post_form(&action, &[("csrf_token", &token)]).await;
    assert_eq!(location(&r), "/admin/users");
    assert!(
        admin
            .get_html("/admin/users")
            .await
            .contains("lost@example.com is signed out everywhere (2 sessions ended).")
    );
    assert_eq!(status(&phone_copy, "/seller").await, 303);
    assert_eq!(status(&laptop, "/seller").await, 303);
    assert_eq!(status(&other, "/seller").await, 200, "other users stay");
    assert_eq!(status(&admin, "/admin/users").await, 200);
    // The user signs in again as usual.
    assert_eq!(
        laptop.login("lost@example.com", PASSWORD).await.status(),
        303
    );
    assert_eq!(status(&laptop, "/seller").await, 200);

    let missing = format!("/admin/users/{}/sign-out", uuid::Uuid::now_v7());
    assert_eq!(
        admin
            .post_form(&missing, &[("csrf_token", &token)])
            .await
            .status(),
        404
    );
    assert_eq!(
        admin
            .post_form("/admin/users/not-an-id/sign-out", &[("csrf_token", &token)])
            .await
            .status(),
        404
    );
}

#[actix_web::test]
async fn an_idle_session_ends_after_the_configured_minutes() {
    let app = spawn_app_with(Options {
        env: vec![("WAYBILL_SESSION_IDLE_MINUTES", "30")],
        ..Options::default()
    })
    .await;
    let (v, copy) = signed_in_with_copy(&app, Role::Seller, "idle@example.com").await;
    age_sessions(&app, "idle@example.com", 29, 29);
    assert_eq!(status(&v, "/seller").await, 200, "29 minutes idle is fine");
    // That use counted: the clock starts again.
    age_sessions(&app, "idle@example.com", 31, 60);
    assert_eq!(status(&copy, "/seller").await, 303);
    assert_eq!(status(&v, "/seller").await, 303);
}

#[actix_web::test]
async fn a_busy_session_still_ends_after_the_configured_hours() {
    let app = spawn_app_with(Options {
        env: vec![("WAYBILL_SESSION_MAX_HOURS", "2")],
        ..Options::default()
    })
    .await;
    let (v, _copy) = signed_in_with_copy(&app, Role::Seller, "busy@example.com").await;
    age_sessions(&app, "busy@example.com", 0, 119);
    assert_eq!(status(&v, "/seller").await, 200);
    age_sessions(&app, "busy@example.com", 0, 121);
    assert_eq!(status(&v, "/seller").await, 303);
}

#[actix_web::test]
async fn use_is_recorded_at_most_once_a_minute() {
    let app = spawn_app().await;
    let (v, _copy) = signed_in_with_copy(&app, Role::Seller, "seen@example.com").await;
    let id = user_id(&app, "seen@example.com");
    let last_seen = || -> chrono::NaiveDateTime {
        sessions::table
            .filter(sessions::user_id.eq(&id))
            .select(sessions::last_seen_at)
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let at_sign_in = last_seen();
    for _ in 0..3 {
        assert_eq!(status(&v, "/seller").await, 200);
    }
    assert_eq!(last_seen(), at_sign_in, "no write on every request");
    age_sessions(&app, "seen@example.com", 2, 2);
    let before = last_seen();
    assert_eq!(status(&v, "/seller").await, 200);
    let after = last_seen();
    assert!(
        after - before > chrono::Duration::seconds(100),
        "{before} → {after}"
    );
}
