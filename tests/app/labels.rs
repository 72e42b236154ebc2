//! Labels read back as a scanner and a person would: rendered at 203 dpi with pdftoppm,
//! scanned with zbarimg, read with pdftotext.

use std::process::Command;

use serde_json::{Value, json};
use waybill::domain::Role;

use crate::fixtures::Booking;
use crate::helpers::*;

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed (poppler-utils, zbar-tools): {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every symbol zbarimg finds on every page, rendered at 203 dpi like a thermal printer.
pub fn scan(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("label.pdf");
    std::fs::write(&file, pdf).unwrap();
    let prefix = dir.path().join("page");
    tool(
        "pdftoppm",
        &[
            "-r",
            "203",
            "-gray",
            "-png",
            file.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "png") {
            found.extend(
                tool("zbarimg", &["--quiet", p.to_str().unwrap()])
                    .lines()
                    .map(String::from),
            );
        }
    }
    found
}

pub fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("label.pdf");
    std::fs::write(&file, pdf).unwrap();
    tool("pdftotext", &["-layout", file.to_str().unwrap(), "-"])
}

/// `pdfinfo`'s report (page size, pages…).
pub fn pdf_info(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("label.pdf");
    std::fs::write(&file, pdf).unwrap();
    tool("pdfinfo", &[file.to_str().unwrap()])
}

pub fn pages_of(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("label.pdf");
    std::fs::write(&file, pdf).unwrap();
    tool("pdfinfo", &[file.to_str().unwrap()])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
        .unwrap()
}

#[actix_web::test]
async fn postal_and_express_labels_scan_and_read_back() {
    let app = spawn_app().await;
    let seller = app.api_seller("labels@example.com", 500_000).await;
    for channel in ["CNPOST-RAM", "DHL-EXPRESS", "UPS-SAVER"] {
        let s = book(&app, seller.key(), Booking::on(channel)).await;
        let (id, tn) = (
            s["id"].as_str().unwrap(),
            s["tracking_number"].as_str().unwrap(),
        );
        let r = app
            .api_get(seller.key(), &format!("/shipments/{id}/label"))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let pdf = r.bytes().await.unwrap();
        let symbols = scan(&pdf);
        assert!(
            symbols.contains(&format!("CODE-128:{tn}")),
            "{channel}: {symbols:?}"
        );
        let url = format!("{}/track/{tn}", app.address);
        assert!(
            symbols.contains(&format!("QR-Code:{url}")),
            "{channel}: {symbols:?}"
        );
        let text = text_of(&pdf);
        for want in [
            "Anna Müller",
            "DE",
            "10117",
            "李伟 Li Wei",
            "深圳灯饰 Shenzhen Lights",
            tn,
        ] {
            assert!(
                text.contains(want),
                "{channel}: {want} missing from\n{text}"
            );
        }
        if channel == "CNPOST-RAM" {
            assert!(
                text.contains("CN 22") && text.contains("HS 940520"),
                "{text}"
            );
            assert_eq!(pages_of(&pdf), 1);
        } else {
            assert!(text.contains("COMMERCIAL INVOICE (CN 23)"), "{text}");
            assert_eq!(
                pages_of(&pdf),
                2,
                "express labels come with an invoice page"
            );
        }
        assert!(pdf.len() < 100_000, "{channel}: {} bytes", pdf.len());
    }
}

#[actix_web::test]
async fn a4_holds_four_labels_a_page_and_batches_are_one_pdf() {
    let app = spawn_app().await;
    let seller = app.api_seller("a4@example.com", 500_000).await;
    let mut ids = Vec::new();
    let mut tns = Vec::new();
    for _ in 0..5 {
        let s = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
        ids.push(s["id"].as_str().unwrap().to_string());
        tns.push(s["tracking_number"].as_str().unwrap().to_string());
    }
    let r = app
        .api_post(seller.key(), "/labels", &json!({"ids": ids, "size": "a4"}))
        .await;
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap();
    assert_eq!(
        pages_of(&pdf),
        2,
        "five labels: four on the first A4 page, one on the second"
    );
    let text = text_of(&pdf);
    for tn in &tns {
        assert!(text.contains(tn.as_str()));
    }
    let r = app
        .api_post(seller.key(), "/labels", &json!({"ids": ids}))
        .await;
    assert_eq!(
        pages_of(&r.bytes().await.unwrap()),
        5,
        "4x6: one label a page"
    );
    // Each print is recorded on the shipment.
    let one: Value = app
        .api_get(seller.key(), &format!("/shipments/{}", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["label_count"], 2);
}

#[actix_web::test]
async fn zpl_carries_the_tracking_number_in_a_code_128_field() {
    let app = spawn_app().await;
    let seller = app.api_seller("zpl@example.com", 500_000).await;
    let s = book(&app, seller.key(), Booking::on("UPS-SAVER")).await;
    let tn = s["tracking_number"].as_str().unwrap();
    let r = app
        .api_get(
            seller.key(),
            &format!("/shipments/{}/label?format=zpl", s["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status(), 200);
    let zpl = r.text().await.unwrap();
    assert!(zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"));
    assert!(zpl.contains("^CI28"), "UTF-8");
    assert!(zpl.contains(&format!("^BCN,160,Y,N,N^FD{tn}^FS")), "{zpl}");
    assert!(zpl.contains(&format!("^FDQA,{}/track/{tn}^FS", app.address)));
    assert!(zpl.contains("Li Wei"), "the Latin sender");
    assert!(!zpl.contains("李伟"), "no Chinese for the printer's font");
    let bad = app
        .api_get(
            seller.key(),
            &format!("/shipments/{}/label?format=png", s["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(bad.status(), 400);
}

#[actix_web::test]
async fn only_the_owner_gets_a_label_and_a_cancelled_shipment_has_none() {
    let app = spawn_app().await;
    let seller = app.api_seller("owner@example.com", 500_000).await;
    let other = app.api_seller("thief@example.com", 0).await;
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    let id = s["id"].as_str().unwrap();
    assert_eq!(
        app.api_get(other.key(), &format!("/shipments/{id}/label"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.api_post(other.key(), "/labels", &json!({"ids": [id]}))
            .await
            .status(),
        404
    );
    app.api_post(seller.key(), &format!("/shipments/{id}/cancel"), &json!({}))
        .await;
    let r = app
        .api_get(seller.key(), &format!("/shipments/{id}/label"))
        .await;
    assert_eq!(r.status(), 409);
    assert!(
        r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("has no label")
    );
}

#[actix_web::test]
async fn sellers_print_from_the_shipment_page_and_the_list() {
    let app = spawn_app().await;
    let v = app.seller_with_address("printer@example.com").await.0;
    let id = waybill::db::users::find_by_email(&mut app.conn(), "printer@example.com")
        .unwrap()
        .unwrap()
        .id;
    let key = app.api_key(&id);
    let a = book(&app, &key, Booking::on("CNPOST-RAM")).await;
    let b = book(&app, &key, Booking::on("CNPOST-EPACKET")).await;
    let page = v
        .get_html(&format!("/shipments/{}", a["id"].as_str().unwrap()))
        .await;
    assert!(page.contains("id=\"print-label\""));
    let r = v
        .get(&format!("/shipments/{}/label", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let token = v.csrf("/shipments").await;
    // Nothing ticked: back to the list, saying what to do.
    let r = v
        .post_form(
            "/shipments/labels",
            &[("csrf_token", &token), ("size", "4x6")],
        )
        .await;
    assert_eq!(location(&r), "/shipments");
    assert!(
        v.get_html("/shipments")
            .await
            .contains("Tick the shipments whose labels you want")
    );
    let r = v
        .post_form(
            "/shipments/labels",
            &[
                ("csrf_token", &token),
                ("ids", a["id"].as_str().unwrap()),
                ("ids", b["id"].as_str().unwrap()),
                ("size", "4x6"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap();
    assert_eq!(pages_of(&pdf), 2);
    let detail = v
        .get_html(&format!("/shipments/{}", a["id"].as_str().unwrap()))
        .await;
    assert!(
        detail.contains("<dt>Labels printed</dt><dd>2</dd>"),
        "printed alone and in the batch"
    );
    let other = app.signed_in(Role::Seller, "not-mine@example.com").await;
    assert_eq!(
        other
            .get(&format!("/shipments/{}/label", a["id"].as_str().unwrap()))
            .await
            .status(),
        404
    );
}
