//! API keys: created in Settings, shown once, stored hashed, revocable, per seller.

use waybill::domain::Role;

use crate::helpers::*;

async fn create_key(seller: &Visitor, name: &str) -> String {
    let r = seller
        .submit(
            "/seller/settings",
            "/seller/settings/api-keys",
            &[("name", name)],
        )
        .await;
    // Post, redirect, get: a reload of the page that shows the key makes no second key.
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/seller/settings");
    let page = seller.get_html("/seller/settings").await;
    let marker = "id=\"new-api-key\">";
    let start = page.find(marker).expect("the new key is shown") + marker.len();
    let reloaded = seller.get_html("/seller/settings").await;
    assert!(!reloaded.contains(marker), "shown once");
    page[start..start + 43].to_string()
}

#[actix_web::test]
async fn a_key_is_shown_once_works_and_stops_when_revoked() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "api@example.com").await;
    let key = create_key(&seller, "Shop ERP").await;
    assert!(key.starts_with("wb_"));

    let r = app.api_get(&key, "/me").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["email"], "api@example.com");
    assert_eq!(body["store_name"], "Test Store");

    let settings = seller.get_html("/seller/settings").await;
    assert!(settings.contains("Shop ERP"));
    assert!(!settings.contains(&key), "the key is never shown again");
    assert!(settings.contains(&key[..10]), "its prefix identifies it");
    let stored =
        waybill::db::api_keys::list_for_seller(&mut app.conn(), body["id"].as_str().unwrap())
            .unwrap();
    assert_eq!(stored[0].key_hash, waybill::security::sha256_hex(&key));
    assert!(stored[0].last_used_at.is_some());

    let r = seller
        .submit(
            "/seller/settings",
            &format!("/seller/settings/api-keys/{}/revoke", stored[0].id),
            &[],
        )
        .await;
    assert_eq!(location(&r), "/seller/settings");
    assert!(
        seller
            .get_html("/seller/settings")
            .await
            .contains("revoked")
    );
    assert_eq!(app.api_get(&key, "/me").await.status(), 401);
}

#[actix_web::test]
async fn seller_b_cannot_see_or_revoke_seller_a_key() {
    let app = spawn_app().await;
    let a = app.signed_in(Role::Seller, "a@example.com").await;
    let b = app.signed_in(Role::Seller, "b@example.com").await;
    let key_a = create_key(&a, "A's integration").await;
    let a_id = waybill::db::users::find_by_email(&mut app.conn(), "a@example.com")
        .unwrap()
        .unwrap()
        .id;
    let key_id = waybill::db::api_keys::list_for_seller(&mut app.conn(), &a_id).unwrap()[0]
        .id
        .clone();

    assert!(
        !b.get_html("/seller/settings")
            .await
            .contains("A&#39;s integration")
    );
    assert!(
        !b.get_html("/seller/settings")
            .await
            .contains("A's integration")
    );
    let r = b
        .submit(
            "/seller/settings",
            &format!("/seller/settings/api-keys/{key_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.api_get(&key_a, "/me").await.status(),
        200,
        "A's key still works"
    );
    let body: serde_json::Value = app.api_get(&key_a, "/me").await.json().await.unwrap();
    assert_eq!(body["email"], "a@example.com");
}

#[actix_web::test]
async fn api_errors_are_json_with_a_bearer_challenge() {
    let app = spawn_app().await;
    for auth in [
        None,
        Some("Bearer wb_0000000000000000000000000000000000000000"),
        Some("Basic abc"),
    ] {
        let mut req = app.visitor().http.get(format!("{}/api/v1/me", app.address));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("Authorization: Bearer")
        );
    }
}

#[actix_web::test]
async fn a_key_name_is_required() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "noname@example.com").await;
    let r = seller
        .submit(
            "/seller/settings",
            "/seller/settings/api-keys",
            &[("name", "  ")],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"name-error\">Enter the key name."),
        "{page}"
    );
    assert!(!page.contains("new-api-key"));
}
