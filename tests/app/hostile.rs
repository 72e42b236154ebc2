//! Hostile input, as an attacker would send it: every route the app registers (read from the
//! source, so a new route is walked the day it is added) with NUL bytes, 600-character ids,
//! bytes that are not UTF-8 and absurd page numbers, answered without a 5xx; then each finding
//! of issue 9 this covers, through HTTP: ids and filters, control and invisible characters in
//! text and in CSV files, `next` targets, page numbers, label batches, customs currencies.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use waybill::domain::Role;

use crate::fixtures::Booking;
use crate::helpers::*;
use crate::labels::{pages_of, text_of};

/// A route as registered: method and full path pattern (`/api/v1/shipments/{id}`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    path: String,
    method: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The string literal that starts right after `open` in `text` at `at`.
fn literal_after(text: &str, at: usize, open: &str) -> Option<String> {
    let rest = &text[at + open.len()..];
    rest.find('"').map(|end| rest[..end].to_string())
}

/// The `web::scope("…")` a file's routes are mounted under: one in the file itself or in
/// the nearest `mod.rs` above it (the module that wires the file in).
fn scope_of(file: &Path, web: &Path) -> String {
    let mut candidates = vec![file.to_path_buf()];
    let mut dir = file.parent();
    while let Some(d) = dir.filter(|d| d.starts_with(web)) {
        candidates.push(d.join("mod.rs"));
        dir = d.parent();
    }
    for c in candidates {
        let Ok(text) = std::fs::read_to_string(&c) else {
            continue;
        };
        let open = "web::scope(\"";
        if let Some(at) = text.find(open) {
            return literal_after(&text, at, open).unwrap();
        }
    }
    String::new()
}

/// Every route registered in the web crate (`crates/waybill-web/src`): `#[get("…")]`-style attributes, `.route("…",
/// web::get()…)` and `web::resource("…")` (tried with GET and POST), each under its scope.
fn registered_routes() -> Vec<Route> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/waybill-web/src");
    let mut files = Vec::new();
    rust_files(&web, &mut files);
    let mut routes = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let scope = scope_of(file, &web);
        let mut add = |method: &str, path: String| {
            routes.push(Route {
                path: format!("{scope}{path}"),
                method: method.to_string(),
            });
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            let open = format!("#[{method}(\"");
            for (at, _) in text.match_indices(&open) {
                add(
                    &method.to_uppercase(),
                    literal_after(&text, at, &open).unwrap(),
                );
            }
        }
        for (at, _) in text.match_indices(".route(\"") {
            let path = literal_after(&text, at, ".route(\"").unwrap();
            let after = &text[at..(at + 200).min(text.len())];
            for method in ["get", "post", "put", "patch", "delete"] {
                if after.contains(&format!("web::{method}()")) {
                    add(&method.to_uppercase(), path.clone());
                }
            }
        }
        for (at, _) in text.match_indices("web::resource(\"") {
            let path = literal_after(&text, at, "web::resource(\"").unwrap();
            add("GET", path.clone());
            add("POST", path);
        }
    }
    routes.sort();
    routes.dedup();
    routes
}

/// `pattern` with every `{param}` (or `{param:regex}`) replaced by `value`.
fn substitute(pattern: &str, value: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in pattern.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str(value);
                }
                depth += 1;
            }
            '}' => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Who is asking: a browser (cookies, and a CSRF token for its forms) or an API client.
struct Caller {
    name: &'static str,
    http: reqwest::Client,
    csrf: Option<String>,
    bearer: Option<String>,
}

const FORM_FIELDS: &[&str] = &[
    "email",
    "password",
    "password_confirm",
    "name",
    "store_name",
    "phone",
    "company",
    "street1",
    "street2",
    "city",
    "state",
    "postal_code",
    "country",
    "default",
    "recipient_name",
    "recipient_street1",
    "recipient_city",
    "recipient_postal_code",
    "recipient_country",
    "recipient_phone",
    "weight_kg",
    "item1_description",
    "item1_currency",
    "item1_value",
    "channel",
    "sender_address_id",
    "reference",
    "form_key",
    "action",
    "ids",
    "size",
    "next",
    "token",
    "amount",
    "note",
    "nonce",
    "direction",
    "role",
    "enabled",
    "round_to_g",
    // Pickups, the courier's and the warehouse's forms, the admin's areas and settings.
    "address_id",
    "date",
    "window",
    "shipment_ids",
    "barcode",
    "reason",
    "choice",
    "courier_id",
    "area_id",
    "postal_prefixes",
    "cities",
    "capacity",
    "windows",
    "timezone",
    "closed_weekdays",
    "holidays",
    "cutoff",
    "label_size",
    "url",
    "events",
    "scan_id",
    "tracking_number",
    "weight_g",
    "weight",
    "length_mm",
    "location",
    "quantity",
];

fn json_body(v: &str) -> Value {
    let address = json!({"name": v, "company": format!("A{v}B"), "street1": v, "city": v,
        "state": v, "postal_code": v, "country": v, "phone": v, "email": v});
    let mut body = json!({
        "ids": [v, v], "size": v, "format": v, "channel": v, "sender_address_id": v,
        "reference": v, "recipient": address, "parcel": {"weight_g": 455},
        "customs": {"contents_type": v, "items": [{"description": v, "currency": v,
            "unit_value": v, "hs_code": v, "origin_country": v}]},
        "name": v, "company": format!("A{v}B"), "street1": v, "city": v, "postal_code": v,
        "country": v, "phone": v,
        "address_id": v, "shipment_ids": [v, v], "date": v, "window": v, "barcode": v,
        "reason": v, "note": v, "url": v, "events": [v], "scan_id": v, "tracking_number": v,
        "weight_g": 455, "location": v
    });
    // The text as a key, too.
    body[v] = json!(v);
    body
}

#[actix_web::test]
async fn every_route_survives_hostile_input() {
    let routes = registered_routes();
    // The scan must find the app's routes, not silently nothing.
    assert!(routes.len() >= 50, "only {} routes found", routes.len());
    for known in [
        ("GET", "/api/v1/shipments/{id}"),
        ("POST", "/api/v1/labels"),
        ("GET", "/shipments/{id}"),
        ("GET", "/seller/addresses/{id}/edit"),
        ("POST", "/admin/channels/{code}/rates"),
        ("POST", "/login"),
    ] {
        assert!(
            routes
                .iter()
                .any(|r| (r.method.as_str(), r.path.as_str()) == known),
            "{known:?} not among {routes:?}"
        );
    }
    let with_params = routes.iter().filter(|r| r.path.contains('{')).count();
    assert!(
        with_params >= 15,
        "only {with_params} routes take a parameter"
    );

    let app = spawn_app().await;
    let (seller, seller_id) = app.seller_with_address("walker@example.com").await;
    let key = app.api_key(&seller_id);
    let booked = app
        .api_post(&key, "/shipments", Booking::on("CNPOST-RAM"))
        .await;
    assert_eq!(booked.status(), 201);
    let admin = app.signed_in(Role::Admin, "walker-admin@example.com").await;
    let warehouse = app
        .signed_in(Role::Warehouse, "walker-dock@example.com")
        .await;
    let warehouse_id =
        waybill::db::users::find_by_email(&mut app.conn(), "walker-dock@example.com")
            .unwrap()
            .unwrap()
            .id;
    let warehouse_key = app.api_key(&warehouse_id);
    let courier = app
        .signed_in(Role::Courier, "walker-rider@example.com")
        .await;
    let courier_id = waybill::db::users::find_by_email(&mut app.conn(), "walker-rider@example.com")
        .unwrap()
        .unwrap()
        .id;
    let courier_key = app.api_key(&courier_id);
    let anonymous = app.visitor();
    let callers = [
        Caller {
            name: "anonymous",
            csrf: Some(anonymous.csrf("/login").await),
            http: anonymous.http,
            bearer: None,
        },
        Caller {
            name: "seller",
            csrf: Some(seller.csrf("/seller/settings").await),
            http: seller.http,
            bearer: None,
        },
        Caller {
            name: "admin",
            csrf: Some(admin.csrf("/admin/users").await),
            http: admin.http,
            bearer: None,
        },
        Caller {
            name: "warehouse",
            csrf: Some(warehouse.csrf("/warehouse").await),
            http: warehouse.http,
            bearer: None,
        },
        Caller {
            name: "courier",
            csrf: Some(courier.csrf("/courier").await),
            http: courier.http,
            bearer: None,
        },
        Caller {
            name: "courier key",
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            csrf: None,
            bearer: Some(courier_key),
        },
        Caller {
            name: "warehouse key",
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            csrf: None,
            bearer: Some(warehouse_key),
        },
        Caller {
            name: "api key",
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            csrf: None,
            bearer: Some(key),
        },
    ];

    let long = "7".repeat(600);
    let params = ["%00", long.as_str(), "%FF%FE"];
    let queries = [
        String::new(),
        "?q=%00&channel=%00&status=%00&page=9223372036854775807&next=%00&token=%00&from=%00&to=%00&format=%00&size=%00&address_id=%00&date=%00".to_string(),
        format!("?q={long}&channel=%FF%FE&status=%FF&page=-1&next=/%09/evil.example&from=%FF&to=%00&address_id={long}&date=%FF"),
    ];
    let long_text = "x".repeat(600);
    let texts = ["\u{0}", long_text.as_str(), "\u{202E}\u{200B}"];
    // Signing out is walked last, so the other routes are walked signed in.
    let mut ordered = routes.clone();
    ordered.sort_by_key(|r| r.path == "/logout");

    let (mut sent, mut failures) = (0, Vec::new());
    for caller in &callers {
        for route in &ordered {
            let api = route.path.starts_with("/api/");
            if api != caller.bearer.is_some() && caller.name != "anonymous" {
                continue;
            }
            let paths: Vec<String> = if route.path.contains('{') {
                params.iter().map(|p| substitute(&route.path, p)).collect()
            } else {
                vec![route.path.clone()]
            };
            let method = Method::from_bytes(route.method.as_bytes()).unwrap();
            for path in &paths {
                for variant in 0..3 {
                    let url = match method {
                        Method::GET => format!("{}{path}{}", app.address, queries[variant]),
                        _ => format!("{}{path}", app.address),
                    };
                    let mut req = caller.http.request(method.clone(), &url);
                    if let Some(k) = &caller.bearer {
                        req = req.bearer_auth(k);
                    }
                    if method != Method::GET {
                        req = if api {
                            req.json(&json_body(texts[variant]))
                        } else {
                            let mut form = vec![("csrf_token", caller.csrf.clone().unwrap())];
                            form.extend(FORM_FIELDS.iter().map(|f| (*f, texts[variant].into())));
                            req.form(&form)
                        };
                    }
                    sent += 1;
                    match req.send().await {
                        Ok(r) if r.status().is_server_error() => failures.push(format!(
                            "{} {} {url} (body {variant}) → {}",
                            caller.name,
                            route.method,
                            r.status()
                        )),
                        Ok(_) => {}
                        Err(e) => failures.push(format!(
                            "{} {} {url} (body {variant}) → no answer: {e}",
                            caller.name, route.method
                        )),
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent > 500, "only {sent} requests sent");
    eprintln!("walked {} routes with {sent} requests", routes.len());
    let health = app.visitor().get("/healthz").await;
    assert_eq!(health.status(), 200, "the server is still up");
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

#[actix_web::test]
async fn ids_and_filters_with_a_nul_byte_are_refused_before_any_query() {
    let app = spawn_app().await;
    let (seller, seller_id) = app.seller_with_address("nul-ids@example.com").await;
    let key = app.api_key(&seller_id);
    for path in [
        "/shipments/%00",
        "/shipments/%00/label",
        &format!("/shipments/{}", "a".repeat(600)),
    ] {
        let r = app.api_get(&key, path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(json_of(r).await["error"], "Not found", "{path}");
    }
    let r = app
        .api_post(&key, "/shipments/%00/cancel", &json!({}))
        .await;
    assert_eq!(r.status(), 404);
    for (query, field) in [
        ("q=%00", "q"),
        ("channel=%00", "channel"),
        ("channel=cnpost%FFram", "channel"),
    ] {
        let r = app.api_get(&key, &format!("/shipments?{query}")).await;
        assert_eq!(r.status(), 422, "{query}");
        let body = json_of(r).await;
        assert!(body["fields"][field].is_string(), "{query}: {body}");
    }
    // A channel filter that is a code is a filter, whatever its case.
    assert_eq!(
        app.api_get(&key, "/shipments?channel=cnpost-ram")
            .await
            .status(),
        200
    );

    for path in [
        "/shipments/%00",
        "/shipments/%FF%FE",
        "/seller/addresses/%00/edit",
        "/shipments/import/%00",
    ] {
        assert_eq!(seller.get(path).await.status(), 404, "{path}");
    }
    for query in ["q=%00", "channel=%00"] {
        let r = seller.get(&format!("/shipments?{query}")).await;
        assert_eq!(r.status(), 422, "{query}");
    }
    let admin = app.signed_in(Role::Admin, "nul-admin@example.com").await;
    for path in ["/admin/channels/%00", "/admin/channels/%00/rates.csv"] {
        assert_eq!(admin.get(path).await.status(), 404, "{path}");
    }
}

#[actix_web::test]
async fn control_and_invisible_characters_in_text_are_field_errors() {
    let app = spawn_app().await;
    let seller = app.api_seller("texts@example.com", 100_000).await;
    let address = |field: &str, value: &str| {
        let mut a = crate::fixtures::sender();
        a[field] = json!(value);
        a
    };
    for (field, value, says) in [
        ("company", "A\u{0}B", "control character (U+0000)"),
        ("name", "Li\u{0B}Wei", "control character (U+000B)"),
        (
            "street1",
            "\u{202E}18 Keyuan Rd",
            "text-direction character (U+202E)",
        ),
        ("name", "\u{200B}\u{200B}", "Enter the name."),
        ("city", "\u{2060}\u{FEFF} \u{AD}", "Enter the city."),
    ] {
        let r = app
            .api_post(seller.key(), "/addresses", &address(field, value))
            .await;
        assert_eq!(r.status(), 422, "{field} {value:?}");
        let body = json_of(r).await;
        let msg = body["fields"][field].as_str().unwrap_or_default();
        assert!(msg.contains(says), "{field} {value:?}: {body}");
    }
    let stored = json_of(app.api_get(seller.key(), "/addresses").await).await;
    assert_eq!(
        stored["addresses"].as_array().unwrap().len(),
        1,
        "only the first"
    );

    // Control characters anywhere in a JSON body are refused first, under their JSON path.
    let mut b = Booking::on("CNPOST-RAM").json();
    b["customs"]["items"][0]["description"] = json!("Lamp\u{0}");
    b["sender_address_id"] = json!("\u{0}");
    let r = app.api_post(seller.key(), "/shipments", &b).await;
    assert_eq!(r.status(), 422);
    let body = json_of(r).await;
    for field in ["customs.items.0.description", "sender_address_id"] {
        let msg = body["fields"][field].as_str().unwrap_or_default();
        assert!(msg.contains("control character (U+0000)"), "{body}");
    }
    let mut b = Booking::on("CNPOST-RAM").json();
    b["recipient"]["city"] = json!("\u{200B}");
    b["recipient"]["name"] = json!("Anna \u{202E}rellüM");
    let r = app.api_post(seller.key(), "/shipments", &b).await;
    assert_eq!(r.status(), 422);
    let body = json_of(r).await;
    assert_eq!(
        body["fields"]["recipient.city"], "Enter the city.",
        "{body}"
    );
    assert!(
        body["fields"]["recipient.name"]
            .as_str()
            .unwrap()
            .contains("U+202E")
    );

    // On a page the form comes back with the field errors.
    let (v, _) = app.seller_with_address("texts-page@example.com").await;
    let r = v
        .submit(
            "/seller/addresses",
            "/seller/addresses",
            &[
                ("name", "Li Wei"),
                ("company", "A\u{0}B"),
                ("street1", "18 Keyuan Rd"),
                ("city", "\u{200B}\u{200B}"),
                ("postal_code", "518057"),
                ("country", "CN"),
                ("phone", "13800138000"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("action=\"/seller/addresses\""),
        "the form again"
    );
    assert!(page.contains("id=\"company-error\""), "{page}");
    assert!(page.contains("contains a control character (U+0000)"));
    assert!(page.contains("id=\"city-error\">Enter the city."), "{page}");
}

#[actix_web::test]
async fn a_csv_file_holding_a_nul_byte_is_refused_with_a_clear_error() {
    let app = spawn_app().await;
    let (v, _) = app.seller_with_address("nul-csv@example.com").await;
    let sample = crate::import::sample_csv(&v).await;
    let csv = sample.replacen("Anna Müller", "Anna\u{0}Müller", 1);
    let r = crate::import::upload(&v, "orders.csv", &csv).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Line 2 holds a control character (U+0000)"),
        "{page}"
    );
    // The clean file still goes through; a file name is shown and stored without the
    // characters that could hide or reorder it.
    let r = crate::import::upload(&v, "orders\u{202E}vsc.csv", &sample).await;
    assert_eq!(r.status(), 303);
    let preview = v.get_html(&location(&r)).await;
    assert!(preview.contains("ordersvsc.csv"), "{preview}");

    let admin = app.signed_in(Role::Admin, "nul-rates@example.com").await;
    let page = "/admin/channels/CNPOST-RAM";
    let card = admin.get_html(&format!("{page}/rates.csv")).await;
    let upload = |body: String| {
        let admin = &admin;
        async move {
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", admin.csrf(page).await)
                .text("round_to_g", "10")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(body.into_bytes()).file_name("rates.csv"),
                );
            admin
                .http
                .post(format!("{}{page}/rates", admin.base))
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    let r = upload(card.replacen("Europe,", "Eur\u{0}ope,", 1)).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"rates-error\""), "{html}");
    assert!(
        html.contains("holds a control character (U+0000)"),
        "{html}"
    );
    assert_eq!(location(&upload(card).await), page, "the card as it was");
}

#[actix_web::test]
async fn next_holding_a_control_character_or_space_is_not_followed() {
    let app = spawn_app().await;
    app.create_user(Role::Seller, "next@example.com");
    for next in [
        "/\t/evil.example",
        "/\x0b",
        "/\n/evil.example",
        "/ /evil.example",
        "/\u{3000}/evil.example",
        "/\u{200B}/evil.example",
    ] {
        let v = app.visitor();
        let r = v
            .submit(
                "/login",
                "/login",
                &[
                    ("email", "next@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(location(&r), "/seller", "{next:?}");
    }
    // A plain path on the site is still followed.
    let r = app
        .visitor()
        .submit(
            "/login",
            "/login",
            &[
                ("email", "next@example.com"),
                ("password", PASSWORD),
                ("next", "/wallet?page=2"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/wallet?page=2");
}

#[actix_web::test]
async fn page_numbers_out_of_range_are_clamped_and_said() {
    let app = spawn_app().await;
    let (seller, seller_id) = app.seller_with_address("pager@example.com").await;
    // 29 more entries beside the opening top-up: 30 lines, two pages of 25 (and money
    // enough for the shipments below).
    app.post(
        &seller_id,
        waybill::services::wallet::Kind::TopUp,
        1_000_000,
        "pager-funds",
    )
    .unwrap();
    for i in 0..28 {
        app.post(
            &seller_id,
            waybill::services::wallet::Kind::TopUp,
            100,
            &format!("pager-{i}"),
        )
        .unwrap();
    }
    let huge = "9223372036854775807";
    let page = seller.get(&format!("/wallet?page={huge}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Page 2 of 2"), "{html}");
    assert!(
        html.contains(&format!("There is no page {huge}: showing page 2 of 2.")),
        "{html}"
    );
    for (raw, says) in [
        ("-1", "There is no page -1: showing page 1 of 2."),
        ("0", "There is no page 0: showing page 1 of 2."),
        ("two", "That is not a page number: showing page 1 of 2."),
    ] {
        let r = seller.get(&format!("/wallet?page={raw}")).await;
        assert_eq!(r.status(), 200, "{raw}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Page 1 of 2") && html.contains(says),
            "{raw}: {html}"
        );
    }
    assert!(
        !seller
            .get_html("/wallet?page=2")
            .await
            .contains("page-notice")
    );

    // 51 shipments: three pages of 25 on the page, two of 50 over the API.
    let key = app.api_key(&seller_id);
    let user = waybill::db::users::find(&mut app.conn(), &seller_id)
        .unwrap()
        .unwrap();
    let input: waybill::services::booking::BookingInput =
        serde_json::from_value(Booking::on("CNPOST-RAM").json()).unwrap();
    let mut parsed = input.parse().unwrap();
    parsed.allow_duplicate_reference = true;
    let settings = waybill::services::booking::Settings {
        currency: app.state.config.currency,
        base_url: &app.address,
        quote_key: &app.state.quote_key[..],
        confirm_by_mail: true,
    };
    for _ in 0..51 {
        waybill::services::booking::book(&mut app.conn(), &user, &parsed, None, &settings).unwrap();
    }
    let html = seller.get_html(&format!("/shipments?page={huge}")).await;
    assert!(html.contains("Page 3 of 3"), "{html}");
    assert!(html.contains(&format!("There is no page {huge}: showing page 3 of 3.")));
    assert_eq!(
        html.matches("name=\"ids\"").count(),
        1,
        "the one shipment on page 3"
    );
    let r = seller.get("/shipments?page=abc&status=booked").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("That is not a page number: showing page 1 of 3.")
    );

    for (raw, page, rows) in [
        (huge, 2, 1),
        ("99999999999999999999", 2, 1),
        ("-5", 1, 50),
        ("abc", 1, 50),
    ] {
        let r = app.api_get(&key, &format!("/shipments?page={raw}")).await;
        assert_eq!(r.status(), 200, "{raw}");
        let body = json_of(r).await;
        assert_eq!(body["page"], page, "{raw}: {body}");
        assert_eq!(body["pages"], 2);
        assert_eq!(body["total"], 51);
        assert_eq!(body["shipments"].as_array().unwrap().len(), rows, "{raw}");
    }
}

#[actix_web::test]
async fn label_batches_print_each_shipment_once_and_at_most_a_thousand() {
    let app = spawn_app().await;
    let shipper = app.api_seller("batch@example.com", 500_000).await;
    let s = json_of(
        app.api_post(shipper.key(), "/shipments", Booking::on("CNPOST-RAM"))
            .await,
    )
    .await;
    let (id, tn) = (
        s["id"].as_str().unwrap(),
        s["tracking_number"].as_str().unwrap(),
    );
    let copies = vec![id; 2_000];
    let started = Instant::now();
    let r = app
        .api_post(shipper.key(), "/labels", &json!({"ids": copies}))
        .await;
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap();
    let took = started.elapsed();
    assert_eq!(pages_of(&pdf), 1, "one label");
    assert!(text_of(&pdf).contains(tn));
    // About 50–90 ms even in a debug build (it was 6.5 s in release before).
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let after = json_of(
        app.api_get(shipper.key(), &format!("/shipments/{id}"))
            .await,
    )
    .await;
    assert_eq!(after["label_count"], 1, "counted once");

    // A thousand different ids pass the cap (these name no shipment: 404); one more does not.
    let ids: Vec<String> = (0..1_001)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let r = app
        .api_post(shipper.key(), "/labels", &json!({"ids": &ids[..1_000]}))
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .api_post(shipper.key(), "/labels", &json!({"ids": ids}))
        .await;
    assert_eq!(r.status(), 422);
    let body = json_of(r).await;
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("At most 1000 different shipments in one label file"),
        "{body}"
    );
    assert!(body["fields"]["ids"].is_string());

    // The Shipments page's "print selected" too.
    let seller = app.visitor();
    assert_eq!(
        seller.login("batch@example.com", PASSWORD).await.status(),
        303
    );
    let token = seller.csrf("/shipments").await;
    let mut form = vec![("csrf_token", token.as_str()), ("size", "4x6")];
    form.extend(std::iter::repeat_n(("ids", id), 300));
    let r = seller.post_form("/shipments/labels", &form).await;
    assert_eq!(r.status(), 200);
    assert_eq!(pages_of(&r.bytes().await.unwrap()), 1);
    let after = json_of(
        app.api_get(shipper.key(), &format!("/shipments/{id}"))
            .await,
    )
    .await;
    assert_eq!(after["label_count"], 2);
}

#[actix_web::test]
async fn customs_currencies_that_name_no_currency_are_refused() {
    let app = spawn_app().await;
    let seller = app.api_seller("currency@example.com", 500_000).await;
    for code in ["XXX", "XTS", "XAU", "XDR", "XBA", "XSU", "XUA", "BOV"] {
        let mut b = Booking::on("CNPOST-RAM").json();
        b["customs"]["items"][0]["currency"] = json!(code);
        let r = app.api_post(seller.key(), "/shipments", &b).await;
        assert_eq!(r.status(), 422, "{code}");
        let body = json_of(r).await;
        let msg = body["fields"]["customs.items.0.currency"]
            .as_str()
            .unwrap_or_default();
        assert!(msg.contains("not the code of a currency"), "{code}: {body}");
    }
    let wallet = json_of(app.api_get(seller.key(), "/wallet").await).await;
    assert_eq!(wallet["balance"]["amount"], 500_000, "nothing was booked");
    let mut eur = Booking::on("CNPOST-RAM").json();
    eur["customs"]["items"][0]["currency"] = json!("eur");
    assert_eq!(
        app.api_post(seller.key(), "/shipments", &eur)
            .await
            .status(),
        201
    );

    // The booking form shows it beside the item.
    let (v, _) = app.seller_with_address("currency-page@example.com").await;
    let r = v
        .submit(
            "/shipments/new",
            "/shipments/new",
            &[
                ("recipient_name", "Marie Dubois"),
                ("recipient_street1", "12 Rue de Rivoli"),
                ("recipient_city", "Paris"),
                ("recipient_postal_code", "75001"),
                ("recipient_country", "FR"),
                ("recipient_phone", "+33 1 23 45 67 89"),
                ("weight_kg", "0.8"),
                ("length_cm", "20"),
                ("width_cm", "15"),
                ("height_cm", "10"),
                ("contents_type", "gift"),
                ("item1_description", "Tea set"),
                ("item1_quantity", "1"),
                ("item1_value", "30"),
                ("item1_currency", "XXX"),
                ("item1_weight_g", "700"),
                ("item1_hs_code", "691110"),
                ("item1_origin", "CN"),
                ("action", "quote"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"item1_currency-error\""), "{page}");
    assert!(page.contains("not the code of a currency"));
}

/// A page's form: who posts it, the page its token comes from, the action and valid fields.
type PageForm<'a> = (&'a Visitor, &'a str, &'a str, Vec<(&'a str, String)>);

/// One field at a time: each form and body that writes starts valid, and one field at a time
/// takes each hostile text. Every other field being valid is what lets the hostile one reach
/// the use case and the database (a form whose every field is bad stops at its first check).
#[actix_web::test]
async fn each_field_alone_of_the_writing_forms_survives_hostile_text() {
    let app = spawn_app().await;
    let area = crate::pickups::add_area(&app, "Shenzhen", "518", 10, "");
    let (seller, seller_id) = app.seller_with_address("fields@example.com").await;
    let key = app.api_key(&seller_id);
    let shipment: Value = json_of(
        app.api_post(&key, "/shipments", Booking::on("CNPOST-RAM"))
            .await,
    )
    .await;
    let shipment_id = shipment["id"].as_str().unwrap().to_string();
    let number = shipment["tracking_number"].as_str().unwrap().to_string();
    let address = crate::pickups::address_of(&app, &key).await;
    let admin = app.signed_in(Role::Admin, "fields-admin@example.com").await;
    let rider = app
        .create_user(Role::Courier, "fields-rider@example.com")
        .id;
    let dock = app
        .create_user(Role::Warehouse, "fields-dock@example.com")
        .id;
    let dock_key = app.api_key(&dock);
    let tomorrow = crate::pickups::tomorrow();
    let long = "y".repeat(5_000);
    let texts = ["\u{0}", "\u{7}\u{1b}", "\u{202E}evil", long.as_str(), "%00"];

    let pages: Vec<PageForm> = vec![
        (
            &admin,
            "/admin/areas",
            "/admin/areas",
            vec![
                ("name", "Futian".into()),
                ("postal_prefixes", "51804".into()),
                ("cities", "Shenzhen".into()),
                ("capacity", "6".into()),
                ("windows", "09:00-12:00".into()),
                ("timezone", "Asia/Shanghai".into()),
                ("closed_weekdays", "sun".into()),
                ("holidays", "2027-01-01".into()),
                ("cutoff", "11:00".into()),
            ],
        ),
        (
            &admin,
            "/admin/areas",
            "/admin/areas/assign",
            vec![("courier_id", rider.to_string()), ("area_id", area.clone())],
        ),
        (
            &admin,
            "/admin/wallets",
            "/admin/wallets",
            vec![
                ("email", "fields@example.com".into()),
                ("direction", "credit".into()),
                ("amount", "1.00".into()),
                ("note", "goodwill".into()),
                ("nonce", "a-nonce-of-sixteen-chars".into()),
            ],
        ),
        (
            &admin,
            "/admin/users",
            "/admin/users",
            vec![
                ("email", "new-rider@example.com".into()),
                ("name", "Rider".into()),
                ("role", "courier".into()),
                ("store_name", "".into()),
                ("phone", "+86 138 0000 0000".into()),
                ("password", "correct horse battery".into()),
                ("password_confirm", "correct horse battery".into()),
            ],
        ),
        (
            &seller,
            "/pickups",
            "/pickups",
            vec![
                ("address_id", address.clone()),
                ("date", tomorrow.clone()),
                ("window", "09:00-12:00".into()),
                ("shipment_ids", shipment_id.clone()),
            ],
        ),
        (
            &seller,
            "/seller/addresses",
            "/seller/addresses",
            vec![
                ("name", "Li Wei".into()),
                ("street1", "科技园南路 18号".into()),
                ("city", "Shenzhen".into()),
                ("state", "Guangdong".into()),
                ("postal_code", "518057".into()),
                ("country", "CN".into()),
                ("phone", "+86 755 8888 0000".into()),
            ],
        ),
    ];
    let mut failures = Vec::new();
    let mut sent = 0;
    for (who, page, action, fields) in &pages {
        let token = who.csrf(page).await;
        for (i, (name, _)) in fields.iter().enumerate() {
            for text in texts {
                let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token)];
                for (j, (n, v)) in fields.iter().enumerate() {
                    form.push((n, if i == j { text } else { v.as_str() }));
                }
                let r = who.post_form(action, &form).await;
                sent += 1;
                if r.status().is_server_error() {
                    failures.push(format!(
                        "POST {action} with {name}={text:.20?} → {}",
                        r.status()
                    ));
                }
            }
        }
    }
    // API bodies: (key, path, valid body).
    let bodies: Vec<(&str, &str, Value)> = vec![
        (
            &key,
            "/pickups",
            json!({"address_id": address, "date": tomorrow, "window": "09:00-12:00",
                   "shipment_ids": [shipment_id]}),
        ),
        (&key, "/addresses", crate::fixtures::sender()),
        (
            &key,
            "/webhooks",
            json!({"url": "https://hooks.example.com/waybill", "events": ["shipment.status_changed"]}),
        ),
        (
            &dock_key,
            "/warehouse/scans",
            json!({"scan_id": "scan-1", "tracking_number": number, "weight_g": 455,
                   "length_mm": 200, "width_mm": 150, "height_mm": 50, "location": "SZX-IN-01"}),
        ),
    ];
    for (k, path, body) in &bodies {
        let Value::Object(map) = body else {
            unreachable!()
        };
        for name in map.keys() {
            for text in texts {
                let mut b = body.clone();
                b[name] = match &body[name] {
                    Value::Array(_) => json!([text]),
                    _ => json!(text),
                };
                let r = app.api_post(k, path, &b).await;
                sent += 1;
                if r.status().is_server_error() {
                    failures.push(format!(
                        "POST /api/v1{path} with {name}={text:.20?} → {}",
                        r.status()
                    ));
                }
            }
        }
    }
    for q in [
        format!("address_id=%00&date={tomorrow}"),
        format!("address_id={address}&date=%00"),
        format!("address_id={}&date={tomorrow}", "7".repeat(5_000)),
    ] {
        let r = app.api_get(&key, &format!("/pickups/windows?{q}")).await;
        sent += 1;
        if r.status().is_server_error() {
            failures.push(format!("GET /pickups/windows?{q:.40} → {}", r.status()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent > 200, "only {sent} requests sent");
}
