//! Health, error pages, role guards, static assets.

use waybill::domain::Role;

use crate::helpers::*;

#[actix_web::test]
async fn healthz_reports_the_database() {
    let app = spawn_app().await;
    let r = app.visitor().get("/healthz").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    let expected = if backend_is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["backend"], expected);
}

#[actix_web::test]
async fn unknown_pages_are_html_404_and_unknown_api_paths_are_json_404() {
    let app = spawn_app().await;
    let v = app.visitor();
    let r = v.get("/no/such/page").await;
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("<h1>Page not found</h1>"));
    let r = v.get("/api/v1/no-such-thing").await;
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "Not found");
    assert!(body["fields"].is_object());
}

#[actix_web::test]
async fn pages_send_strangers_to_login_and_back() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "back@example.com");
    let v = app.visitor();
    let r = v.get("/seller/settings").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=%2Fseller%2Fsettings");
    let page = v.get_html("/login?next=%2Fseller%2Fsettings").await;
    assert!(page.contains(r#"name="next" value="/seller/settings""#));
    let r = v
        .submit(
            "/login?next=%2Fseller%2Fsettings",
            "/login",
            &[
                ("email", "back@example.com"),
                ("password", PASSWORD),
                ("next", "/seller/settings"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/seller/settings");
}

#[actix_web::test]
async fn login_never_redirects_off_site() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "stay@example.com");
    let v = app.visitor();
    let r = v
        .submit(
            "/login",
            "/login",
            &[
                ("email", "stay@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/seller");
}

#[actix_web::test]
async fn each_role_sees_only_its_own_pages() {
    let app = spawn_app().await;
    let pages = [
        (Role::Seller, "/seller"),
        (Role::Courier, "/courier"),
        (Role::Warehouse, "/warehouse"),
        (Role::Admin, "/admin"),
    ];
    for (role, home) in pages {
        let v = app.signed_in(role, &format!("{role}@example.com")).await;
        let r = v.get("/").await;
        assert_eq!(location(&r), home, "{role} lands on its home");
        for (other, path) in pages {
            let r = v.get(path).await;
            let expected = if other == role { 200 } else { 403 };
            assert_eq!(r.status(), expected, "{role} opening {path}");
            if expected == 403 {
                assert!(r.text().await.unwrap().contains("You do not have access"));
            }
        }
    }
}

#[actix_web::test]
async fn static_assets_are_served_from_the_binary() {
    let app = spawn_app().await;
    let r = app.visitor().get("/static/css/app.css").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(app.visitor().get("/static/nope.css").await.status(), 404);
}

#[actix_web::test]
async fn responses_carry_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    let r = app.visitor().get("/login").await;
    assert_eq!(r.headers()["x-request-id"].len(), 32);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers().contains_key("content-security-policy"));
}
