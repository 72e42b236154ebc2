//! Labels and customs forms that customs and couriers can read: a Latin sender beside the
//! local one with nothing overlapping, addresses in the destination's order, IOSS / VAT /
//! EORI on the CN23, and up to 20 customs items from the API and the form.

use std::process::Command;

use serde_json::{Value, json};

use crate::fixtures::Booking;
use crate::helpers::*;

fn pdf_file(pdf: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("label.pdf");
    std::fs::write(&file, pdf).unwrap();
    let path = file.to_str().unwrap().to_string();
    (dir, path)
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed (poppler-utils): {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of page `n` (1-based), laid out.
fn page_text(pdf: &[u8], n: usize) -> String {
    let (_dir, path) = pdf_file(pdf);
    let n = n.to_string();
    run("pdftotext", &["-layout", "-f", &n, "-l", &n, &path, "-"])
}

#[derive(Debug, Clone)]
struct Word {
    text: String,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

fn attr(tag: &str, name: &str) -> f32 {
    let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end].parse().unwrap()
}

/// Every word's box on every page, from `pdftotext -bbox`.
fn word_boxes(pdf: &[u8]) -> Vec<Vec<Word>> {
    let (_dir, path) = pdf_file(pdf);
    let html = run("pdftotext", &["-bbox", &path, "-"]);
    let mut pages = Vec::new();
    for page in html.split("<page ").skip(1) {
        let mut words = Vec::new();
        for w in page.split("<word ").skip(1) {
            let (tag, rest) = w.split_once('>').unwrap();
            let text = rest.split("</word>").next().unwrap().to_string();
            words.push(Word {
                text,
                x0: attr(tag, "xMin"),
                y0: attr(tag, "yMin"),
                x1: attr(tag, "xMax"),
                y1: attr(tag, "yMax"),
            });
        }
        pages.push(words);
    }
    pages
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// Pairs of words whose boxes overlap by more than a hair (0.3 pt each way).
fn overlaps(words: &[Word], only: impl Fn(&Word) -> bool) -> Vec<(&Word, &Word)> {
    let mut found = Vec::new();
    for (i, a) in words.iter().enumerate() {
        if !only(a) {
            continue;
        }
        for (j, b) in words.iter().enumerate() {
            if i == j {
                continue;
            }
            let dx = a.x1.min(b.x1) - a.x0.max(b.x0);
            let dy = a.y1.min(b.y1) - a.y0.max(b.y0);
            if dx > 0.3 && dy > 0.3 {
                found.push((a, b));
            }
        }
    }
    found
}

async fn label(app: &TestApp, key: &str, id: &str, query: &str) -> reqwest::Response {
    app.api_get(key, &format!("/shipments/{id}/label{query}"))
        .await
}

#[actix_web::test]
async fn a_chinese_only_sender_prints_in_latin_and_nothing_overlaps() {
    let app = spawn_app().await;
    let seller = app.api_seller("latin@example.com", 500_000).await;
    let chinese = json!({"name": "王小明", "company": "深圳灯饰有限公司",
        "street1": "南山区科技园南路 18号", "street2": "创维大厦A座1203室深圳湾科技生态园十栋",
        "city": "深圳市", "state": "广东省", "postal_code": "518057", "country": "CN",
        "phone": "13800138000", "default": true});
    let r = app.api_post(seller.key(), "/addresses", &chinese).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["name"], "王小明", "the local address is kept");
    assert_eq!(a["latin"]["name"], "Wang Xiaoming");
    assert_eq!(a["latin"]["city"], "Shenzhen");
    assert_eq!(a["latin"]["state"], "Guangdong");
    assert_eq!(a["latin"]["company"], "Shenzhen Dengshi Co., Ltd.");
    let street = a["latin"]["street1"].as_str().unwrap();
    assert!(street.is_ascii() && street.contains("18 Hao"), "{street}");
    let listed: Value = app
        .api_get(seller.key(), "/addresses")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        listed["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["latin"] == a["latin"])
    );

    let s = book(&app, seller.key(), Booking::on("DHL-EXPRESS")).await;
    assert_eq!(
        s["sender"]["latin"]["name"], "Wang Xiaoming",
        "kept on the shipment"
    );
    let id = s["id"].as_str().unwrap();
    let pdf = label(&app, seller.key(), id, "")
        .await
        .bytes()
        .await
        .unwrap();
    let (front, invoice) = (page_text(&pdf, 1), page_text(&pdf, 2));
    assert!(invoice.contains("COMMERCIAL INVOICE (CN 23)"), "{invoice}");
    for (name, text) in [("label", &front), ("CN23", &invoice)] {
        for want in [
            "Wang Xiaoming",
            "Shenzhen Dengshi Co., Ltd.",
            "518057 Shenzhen",
            "CHINA (CN)",
        ] {
            assert!(text.contains(want), "{name}: {want} missing from\n{text}");
        }
    }
    let pages = word_boxes(&pdf);
    assert_eq!(pages.len(), 2);
    for (n, words) in pages.iter().enumerate() {
        assert!(
            words.iter().any(|w| has_cjk(&w.text)),
            "page {}: the local sender is printed too",
            n + 1
        );
        let clash = overlaps(words, |w| has_cjk(&w.text));
        assert!(clash.is_empty(), "page {}: {clash:#?}", n + 1);
    }
    // The CN23 is laid out in columns: no word there touches another.
    let clash = overlaps(&pages[1], |_| true);
    assert!(clash.is_empty(), "CN23: {clash:#?}");

    let zpl = label(&app, seller.key(), id, "?format=zpl")
        .await
        .text()
        .await
        .unwrap();
    assert!(zpl.contains("Wang Xiaoming"), "{zpl}");
    assert!(
        !has_cjk(&zpl),
        "no Chinese for a printer font without it:\n{zpl}"
    );

    // A Latin version the seller types is kept as typed.
    let mut typed = chinese.clone();
    typed["latin"] = json!({"name": "Xiaoming Wang", "street1": "18 Keyuan South Road",
                            "city": "Shenzhen"});
    let r = app.api_post(seller.key(), "/addresses", &typed).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap()["latin"]["name"],
        "Xiaoming Wang"
    );
    typed["latin"]["name"] = json!("王");
    let r = app.api_post(seller.key(), "/addresses", &typed).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["fields"]["latin.name"].is_string());
}

#[actix_web::test]
async fn the_address_book_shows_the_latin_version_for_editing() {
    let app = spawn_app().await;
    let (v, _) = app.seller_with_address("book-latin@example.com").await;
    let chinese = [
        ("name", "王小明"),
        ("street1", "科技园南路 18号"),
        ("city", "深圳"),
        ("postal_code", "518057"),
        ("country", "CN"),
        ("phone", "13800138000"),
    ];
    let r = v
        .submit("/seller/addresses", "/seller/addresses", &chinese)
        .await;
    assert_eq!(r.status(), 303);
    let page = v.get_html("/seller/addresses").await;
    assert!(
        page.contains("Wang Xiaoming, Keji Yuan Nan Lu 18 Hao, Shenzhen"),
        "{page}"
    );
    let edit = page
        .split("href=\"/seller/addresses/")
        .filter_map(|p| p.split_once("/edit\"").map(|(id, _)| id.to_string()))
        .last()
        .unwrap();
    let form = v.get_html(&format!("/seller/addresses/{edit}/edit")).await;
    assert!(
        form.contains("name=\"latin_name\" type=\"text\" value=\"Wang Xiaoming\""),
        "{form}"
    );
    let r = v
        .submit(
            &format!("/seller/addresses/{edit}/edit"),
            &format!("/seller/addresses/{edit}"),
            &[
                &chinese[..],
                &[
                    ("latin_name", "Xiaoming Wang"),
                    ("latin_street1", "18 Keyuan South Road"),
                    ("latin_city", "Shenzhen"),
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(r.status(), 303);
    let page = v.get_html("/seller/addresses").await;
    assert!(
        page.contains("Xiaoming Wang, 18 Keyuan South Road, Shenzhen"),
        "{page}"
    );
}

#[actix_web::test]
async fn recipients_are_written_in_their_countrys_order() {
    let app = spawn_app().await;
    let seller = app.api_seller("order@example.com", 500_000).await;
    let de = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    let pdf = label(&app, seller.key(), de["id"].as_str().unwrap(), "")
        .await
        .bytes()
        .await
        .unwrap();
    let text = page_text(&pdf, 1);
    assert!(text.contains("10117 Berlin"), "{text}");
    assert!(text.contains("GERMANY (DE)"), "{text}");
    assert!(!text.contains("Berlin 10117"), "{text}");

    let us = Booking::on("UPS-SAVER").set(
        "/recipient",
        json!({"name": "John Smith", "street1": "1600 Amphitheatre Pkwy",
                   "city": "Mountain View", "state": "CA", "postal_code": "94043",
                   "country": "US", "phone": "+1 650 253 0000"}),
    );
    let us = book(&app, seller.key(), us).await;
    let id = us["id"].as_str().unwrap();
    let pdf = label(&app, seller.key(), id, "")
        .await
        .bytes()
        .await
        .unwrap();
    for page in [1, 2] {
        let text = page_text(&pdf, page);
        assert!(
            text.contains("Mountain View, CA 94043"),
            "page {page}: {text}"
        );
        assert!(text.contains("UNITED STATES (US)"), "page {page}: {text}");
    }
    let zpl = label(&app, seller.key(), id, "?format=zpl")
        .await
        .text()
        .await
        .unwrap();
    assert!(zpl.contains("Mountain View, CA 94043"), "{zpl}");
}

#[actix_web::test]
async fn ioss_vat_and_eori_are_checked_and_printed_on_the_cn23() {
    let app = spawn_app().await;
    let seller = app.api_seller("ioss@example.com", 500_000).await;
    let customs = |extra: Value| {
        let mut c = Booking::on("DHL-EXPRESS").json()["customs"].clone();
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        Booking::on("DHL-EXPRESS").set("/customs", c).json()
    };
    let s = book(
        &app,
        seller.key(),
        &customs(
            json!({"ioss": "im 2760 000 001", "vat_number": "DE123456789", "eori": "DE1234567"}),
        ),
    )
    .await;
    assert!(s.get("warnings").is_none(), "{s}");
    assert_eq!(s["customs"]["ioss"], "IM2760000001");
    let pdf = label(&app, seller.key(), s["id"].as_str().unwrap(), "")
        .await
        .bytes()
        .await
        .unwrap();
    let invoice = page_text(&pdf, 2);
    for want in ["IOSS IM2760000001", "VAT DE123456789", "EORI DE1234567"] {
        assert!(invoice.contains(want), "{want} missing from\n{invoice}");
    }
    // A $24.90 lamp to Germany without IOSS is booked, with a warning beside the field.
    let s = book(&app, seller.key(), &customs(json!({}))).await;
    assert!(
        s["warnings"]["customs.ioss"]
            .as_str()
            .unwrap()
            .contains("IOSS"),
        "{s}"
    );
    let r = app
        .api_post(
            seller.key(),
            "/shipments",
            &customs(json!({"ioss": "IM123"})),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["fields"]["customs.ioss"].is_string());
}

fn item(n: usize) -> Value {
    json!({"description": format!("Spare part {n}"), "quantity": 1, "unit_value": "1.50",
           "currency": "USD", "weight_g": 10, "hs_code": "940599", "origin_country": "CN"})
}

#[actix_web::test]
async fn twenty_items_are_declared_through_the_api() {
    let app = spawn_app().await;
    let seller = app.api_seller("items@example.com", 500_000).await;
    let twenty: Vec<Value> = (1..=20).map(item).collect();
    let body = Booking::on("DHL-EXPRESS")
        .set("/customs/items", json!(twenty))
        .json();
    let s = book(&app, seller.key(), &body).await;
    assert_eq!(s["customs"]["items"].as_array().unwrap().len(), 20);
    let pdf = label(&app, seller.key(), s["id"].as_str().unwrap(), "")
        .await
        .bytes()
        .await
        .unwrap();
    let invoice = page_text(&pdf, 2);
    for n in [1, 20] {
        assert!(
            invoice.contains(&format!("Spare part {n} ")),
            "item {n}:\n{invoice}"
        );
    }
    let pages = word_boxes(&pdf);
    let clash = overlaps(&pages[1], |_| true);
    assert!(clash.is_empty(), "CN23 with 20 items: {clash:#?}");
    let too_many: Vec<Value> = (1..=21).map(item).collect();
    let r = app
        .api_post(
            seller.key(),
            "/shipments",
            Booking::on("DHL-EXPRESS").set("/customs/items", json!(too_many)),
        )
        .await;
    assert_eq!(r.status(), 422);
}

#[actix_web::test]
async fn the_form_adds_and_removes_item_rows_without_javascript() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("form-items@example.com").await;
    let page = v.get_html("/shipments/new").await;
    assert!(page.contains("name=\"item3_description\""));
    assert!(!page.contains("name=\"item4_description\""));
    assert!(page.contains("id=\"add-item\""));
    let base: Vec<(String, String)> = [
        ("recipient_name", "Marie Dubois"),
        ("recipient_street1", "12 Rue de Rivoli"),
        ("recipient_city", "Paris"),
        ("recipient_postal_code", "75001"),
        ("recipient_country", "FR"),
        ("recipient_phone", "+33 1 23 45 67 89"),
        ("weight_kg", "1"),
        ("length_cm", "20"),
        ("width_cm", "15"),
        ("height_cm", "10"),
        ("contents_type", "merchandise"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let with_items = |n: usize, rows: usize, action: &str| {
        let mut f = base.clone();
        for i in 1..=n {
            for (k, val) in [
                ("description", format!("Spare part {i}")),
                ("quantity", "1".into()),
                ("value", "1.50".into()),
                ("currency", "USD".into()),
                ("weight_g", "10".into()),
                ("hs_code", "940599".into()),
                ("origin", "CN".into()),
            ] {
                f.push((format!("item{i}_{k}"), val));
            }
        }
        f.push(("item_rows".into(), rows.to_string()));
        f.push(("action".into(), action.into()));
        f
    };
    let post = |f: Vec<(String, String)>| {
        let v = &v;
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            v.submit("/shipments/new", "/shipments/new", &refs).await
        }
    };
    // "Add item" shows one more row and keeps what was typed.
    let r = post(with_items(3, 3, "add_item")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("name=\"item4_description\""), "{page}");
    assert!(page.contains("value=\"Spare part 3\""));
    // "Remove" on row 2 moves row 3 up.
    let r = post(with_items(3, 4, "remove_item_2")).await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"item2_description\" value=\"Spare part 3\""),
        "{page}"
    );
    assert!(!page.contains("Spare part 2\""), "{page}");
    // Twenty rows: no "Add item" any more; they quote and book.
    let r = post(with_items(20, 20, "quote")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(!page.contains("id=\"add-item\""));
    assert!(
        page.contains("id=\"ioss-warning\""),
        "EU and under €150 without IOSS"
    );
    let quote_id = page
        .split("name=\"quote_id_CNPOST-RAM\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let mut f = with_items(20, 20, "book");
    f.push(("channel".into(), "CNPOST-RAM".into()));
    f.push(("quote_id_CNPOST-RAM".into(), quote_id));
    f.push(("form_key".into(), "k".repeat(32)));
    let r = post(f).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let id = location(&r).trim_start_matches("/shipments/").to_string();
    let s = waybill::db::shipments::find(&mut app.conn(), &seller, &id)
        .unwrap()
        .unwrap();
    let customs: Value = serde_json::to_value(&s.customs).unwrap();
    assert_eq!(customs["items"].as_array().unwrap().len(), 20);
}

#[actix_web::test]
async fn on_a4_each_invoice_follows_its_own_label() {
    let app = spawn_app().await;
    let seller = app.api_seller("a4-invoice@example.com", 500_000).await;
    let express = book(&app, seller.key(), Booking::on("DHL-EXPRESS")).await;
    let postal = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    let r = app
        .api_post(
            seller.key(),
            "/labels",
            &json!({"ids": [express["id"], postal["id"]], "size": "a4"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap();
    let pages = word_boxes(&pdf);
    assert_eq!(
        pages.len(),
        1,
        "label, invoice, label: three cells of one sheet"
    );
    let at = |text: &str| {
        pages[0]
            .iter()
            .find(|w| w.text == text)
            .map(|w| (w.x0, w.y0))
            .unwrap_or_else(|| panic!("{text} missing"))
    };
    let half_w = 105.0 * 72.0 / 25.4;
    let half_h = 148.5 * 72.0 / 25.4;
    let invoice = at("COMMERCIAL");
    assert!(
        invoice.0 > half_w && invoice.1 < half_h,
        "top right: {invoice:?}"
    );
    let tn = postal["tracking_number"].as_str().unwrap();
    let second = at(tn);
    assert!(
        second.0 < half_w && second.1 > half_h,
        "bottom left: {second:?}"
    );
}

/// Where each of `ids` first appears on `page`, asserting they come in that order.
fn assert_in_order(page: &str, ids: &[&str]) {
    let at: Vec<usize> = ids
        .iter()
        .map(|id| {
            page.find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("no #{id} in\n{page}"))
        })
        .collect();
    assert!(at.is_sorted(), "{ids:?} are at {at:?}");
}

/// The place fields of a Chinese address, in the order its form asks for them.
pub const PROVINCE_FIRST: [&str; 7] = [
    "country",
    "state",
    "city",
    "district",
    "street1",
    "street2",
    "postal_code",
];

/// A Chinese sender address is asked for as it is written — province, city, district,
/// street — any other street first; the district is kept, romanised, returned by the API
/// and printed after the street on the label.
#[actix_web::test]
async fn a_chinese_address_is_asked_for_province_first_and_keeps_its_district() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("district@example.com").await;
    assert_in_order(&v.get_html("/seller/addresses").await, &PROVINCE_FIRST);
    let chinese = [
        ("name", "王小明"),
        ("state", "广东省"),
        ("city", "深圳市"),
        ("district", "南山区"),
        ("street1", "科技园南路 18号"),
        ("postal_code", "518057"),
        ("country", "CN"),
        ("phone", "13800138000"),
        ("default", "1"),
    ];
    let r = v
        .submit("/seller/addresses", "/seller/addresses", &chinese)
        .await;
    assert_eq!(r.status(), 303);
    let page = v.get_html("/seller/addresses").await;
    assert!(
        page.contains("王小明, 南山区 科技园南路 18号, 深圳市 CN"),
        "{page}"
    );
    assert!(
        page.contains("Wang Xiaoming, Keji Yuan Nan Lu 18 Hao, Nanshan Qu, Shenzhen"),
        "{page}"
    );
    let edit = page
        .split("href=\"/seller/addresses/")
        .filter_map(|p| p.split_once("/edit\"").map(|(id, _)| id.to_string()))
        .next()
        .unwrap();
    let form = v.get_html(&format!("/seller/addresses/{edit}/edit")).await;
    assert_in_order(&form, &PROVINCE_FIRST);
    for want in [
        "name=\"district\" type=\"text\" value=\"南山区\"",
        "name=\"latin_district\" type=\"text\" value=\"Nanshan Qu\"",
    ] {
        assert!(form.contains(want), "{want} in\n{form}");
    }
    // Any other country is asked for street first (here shown again with an error).
    let r = v
        .submit(
            "/seller/addresses",
            "/seller/addresses",
            &[
                ("name", "Anna Müller"),
                ("street1", "Friedrichstraße 12"),
                ("city", "Berlin"),
                ("postal_code", "10117"),
                ("country", "DE"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"phone-error\""), "{page}");
    assert_in_order(
        &page,
        &[
            "street1",
            "street2",
            "district",
            "city",
            "state",
            "postal_code",
            "country",
        ],
    );

    // The API gives the district (an optional field, in the Latin version too)…
    let key = app.api_key(&seller);
    let listed: Value = app.api_get(&key, "/addresses").await.json().await.unwrap();
    let mine = &listed["addresses"][0];
    assert_eq!(mine["default"], true, "{listed}");
    assert_eq!(mine["district"], "南山区");
    assert_eq!(mine["latin"]["district"], "Nanshan Qu");
    assert!(
        listed["addresses"][1].get("district").is_none(),
        "no district, no field: {listed}"
    );
    let mut by_api = chinese_json();
    by_api["district"] = json!("福田区");
    let r = app.api_post(&key, "/addresses", &by_api).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["latin"]["district"], "Futian Qu", "{a}");

    // …and the label prints it after the street, in Latin letters.
    let s = book(&app, &key, Booking::on("DHL-EXPRESS")).await;
    assert_eq!(s["sender"]["district"], "南山区");
    let pdf = label(&app, &key, s["id"].as_str().unwrap(), "")
        .await
        .bytes()
        .await
        .unwrap();
    for page in [1, 2] {
        let text = page_text(&pdf, page);
        assert!(text.contains("Nanshan Qu"), "page {page}: {text}");
    }
}

fn chinese_json() -> Value {
    json!({"name": "王小明", "street1": "深南大道 6008号", "city": "深圳市", "state": "广东省",
           "postal_code": "518034", "country": "CN", "phone": "13800138000"})
}
