//! Bulk CSV import: preview with every row's errors, book only the good rows, repeatable.

use waybill::domain::Role;

use crate::helpers::*;

pub async fn upload(v: &Visitor, name: &str, csv: &str) -> reqwest::Response {
    upload_bytes(v, name, csv.as_bytes().to_vec()).await
}

/// The sample CSV the import page offers.
pub async fn sample_csv(v: &Visitor) -> String {
    v.get("/shipments/import/sample.csv")
        .await
        .text()
        .await
        .unwrap()
}

/// Books an uploaded import and waits for the run to finish; returns the results page.
pub async fn book_and_wait(v: &Visitor, import_page: &str) -> String {
    let id = import_page.trim_start_matches("/shipments/import/");
    let r = v
        .submit(import_page, &format!("/shipments/import/{id}/book"), &[])
        .await;
    assert_eq!(location(&r), import_page);
    for _ in 0..400 {
        let page = v.get_html(import_page).await;
        if page.contains("id=\"results\"") {
            return page;
        }
        assert!(
            page.contains("Booking…") || page.contains("id=\"progress\""),
            "{page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

#[actix_web::test]
async fn a_csv_with_bad_rows_shows_them_and_books_only_the_good_ones() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("importer@example.com").await;
    let sample = sample_csv(&v).await;
    let mut lines: Vec<String> = sample.lines().map(String::from).collect();
    lines.push("ORD-1003,CNPOST-RAM,王小明,,1 Main St,,Austin,TX,7870,US,+1 512 555 0100,,2500,200,150,50,merchandise,Mug,1,5.00,USD,300,6912,CN".into());
    lines.push("ORD-1001,DHL-EXPRESS,Dup Row,,1 Main St,,Austin,TX,78701,US,+1 512 555 0100,,500,200,150,50,merchandise,Mug,1,5.00,USD,300,691200,CN".into());
    lines.push("ORD-1005,CNPOST-RAM,Jane Roe,,1 Main St,,Austin,TX,78701,US,+1 512 555 0100,,2500,200,150,50,merchandise,Mug,1,5.00,USD,300,691200,CN".into());
    lines.push("ORD-1006,CNPOST-RAM,Jim Roe,,1 Main St,,Austin,TX,78701,US,+1 512 555 0100,,abc,200,150,50,merchandise,Mug,1,5.00,USD,300,691200,CN".into());
    let csv = lines.join("\n");
    let r = upload(&v, "orders.csv", &csv).await;
    assert_eq!(r.status(), 303);
    let page_path = location(&r);
    let preview = v.get_html(&page_path).await;
    assert!(
        preview.contains("<strong>2</strong> of 6 rows can be booked"),
        "{preview}"
    );
    // Errors name the file's own columns; text in a number column is said to be text.
    assert!(
        preview.contains("weight_g: “abc” on line 7 is not a whole number"),
        "{preview}"
    );
    assert!(
        !preview.contains("weight_g: This field is required"),
        "{preview}"
    );
    for msg in [
        "Latin letters",
        "recipient_postal_code: This is not a valid US postal code",
        "Too heavy",
        "6 to 10 digits",
        "ORD-1001 is already on line 2",
    ] {
        assert!(preview.contains(msg), "{msg} missing");
    }
    assert_eq!(
        app.balance(&seller),
        200_000,
        "nothing is charged by a preview"
    );
    let results = book_and_wait(&v, &page_path).await;
    assert!(
        results.contains("<strong>2</strong> booked, 0 failed."),
        "{results}"
    );
    // The new labels print in one go from the results.
    let ids: Vec<String> = results
        .split("name=\"ids\" value=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{results}");
    let token = csrf_in(&results);
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend(ids.iter().map(|i| ("ids", i.as_str())));
    let r = v.post_form("/shipments/labels", &form).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let shipments = v.get_html("/shipments").await;
    assert!(shipments.contains("2 shipments<") && shipments.contains("ORD-1002"));

    // The same file again: nothing new is booked.
    let again = location(&upload(&v, "orders.csv", &csv).await);
    let results = book_and_wait(&v, &again).await;
    assert!(results.contains("booked by an earlier import"), "{results}");
    assert!(v.get_html("/shipments").await.contains("2 shipments<"));
    app.assert_ledger_consistent(&seller);
}

#[actix_web::test]
async fn unreadable_uploads_are_explained() {
    let app = spawn_app().await;
    let (v, _) = app.seller_with_address("bad-file@example.com").await;
    let r = upload(&v, "x.csv", "reference,channel\nA,B\n").await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("These columns are missing: recipient_name")
    );
    let r = upload(&v, "x.csv", "").await;
    assert_eq!(r.status(), 422);
    // Without the session's CSRF token the upload is refused.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"a,b".to_vec()).file_name("x.csv"),
    );
    let r = v
        .http
        .post(format!("{}/shipments/import", v.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Another seller cannot open someone's import.
    let ok = upload(&v, "s.csv", &sample_csv(&v).await).await;
    let other = app.signed_in(Role::Seller, "peek@example.com").await;
    assert_eq!(other.get(&location(&ok)).await.status(), 404);
}

/// Uploads raw bytes (a file in another encoding than UTF-8).
async fn upload_bytes(v: &Visitor, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let token = v.csrf("/shipments/import").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    v.http
        .post(format!("{}/shipments/import", v.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_gbk_file_imports_with_several_items_per_order() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("gbk@example.com").await;
    // As Excel in China saves it: GBK, a Chinese note column Waybill ignores, a Chinese
    // order number, and one row per item (the second row repeats the reference only).
    let header = waybill::services::import::COLUMNS
        .iter()
        .map(|c| c.0)
        .collect::<Vec<_>>()
        .join(",");
    let csv = format!(
        "{header},备注\n\
         订单1001,CNPOST-RAM,John Smith,,1 Main St,,Austin,TX,78701,US,+1 512 555 0100,,900,200,150,50,merchandise,Mug,1,5.00,USD,300,691200,CN,,,,易碎\n\
         订单1001,,,,,,,,,,,,,,,,,Tea spoon,4,1.00,USD,20,821599,CN,,,,\n"
    );
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&csv);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "the file is not UTF-8");
    let r = upload_bytes(&v, "订单.csv", gbk.into_owned()).await;
    assert_eq!(r.status(), 303);
    let page_path = location(&r);
    let preview = v.get_html(&page_path).await;
    assert!(preview.contains("订单1001"), "{preview}");
    assert!(
        preview.contains("<strong>1</strong> of 1 rows can be booked"),
        "{preview}"
    );
    let results = book_and_wait(&v, &page_path).await;
    assert!(
        results.contains("<strong>1</strong> booked, 0 failed."),
        "{results}"
    );
    let s = waybill::db::shipments::find_open_by_reference(&mut app.conn(), &seller, "订单1001")
        .unwrap()
        .unwrap();
    let customs: serde_json::Value = serde_json::to_value(&s.customs).unwrap();
    let items = customs["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{customs}");
    assert_eq!(items[1]["description"], "Tea spoon");
    // Bytes that are neither UTF-8 nor GBK are refused with a reason.
    let r = upload_bytes(&v, "x.csv", vec![b'a', b',', 0x81, 0x20, b'\n']).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("neither UTF-8 nor GBK"));
}

/// An import of N rows mails one summary naming what it booked, refused and found already
/// booked, with a link to the import, and no confirmation per row; a single booking still
/// mails its own.
#[actix_web::test]
async fn an_import_mails_one_summary_and_no_confirmation_per_row() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("summary@example.com").await;
    let sample = sample_csv(&v).await;
    let first = location(&upload(&v, "first.csv", &sample).await);
    let results = book_and_wait(&v, &first).await;
    assert!(
        results.contains("<strong>2</strong> booked, 0 failed."),
        "{results}"
    );
    // The same two orders again, one new one, and two that cannot be booked.
    let mut lines: Vec<String> = sample.lines().map(String::from).collect();
    lines.push("ORD-1003,CNPOST-RAM,Jane Roe,,1 Main St,,Austin,TX,78701,US,+1 512 555 0100,,500,200,150,50,merchandise,Mug,1,5.00,USD,300,691200,CN".into());
    lines.push("ORD-1004,CNPOST-RAM,John Roe,,1 Main St,,Austin,TX,7870,US,+1 512 555 0100,,500,200,150,50,merchandise,Mug,1,5.00,USD,300,691200,CN".into());
    lines.push("ORD-1005,CNPOST-RAM,Jim Roe,,1 Main St,,Austin,TX,78701,US,+1 512 555 0100,,2500,200,150,50,merchandise,Mug,1,5.00,USD,300,691200,CN".into());
    let before = app.balance(&seller);
    let second = location(&upload(&v, "second.csv", &lines.join("\n")).await);
    let results = book_and_wait(&v, &second).await;
    assert!(
        results.contains("<strong>1</strong> booked, 0 failed, 2 already booked before"),
        "{results}"
    );
    let charged = cny(before - app.balance(&seller)).to_string();

    // The run is over, and with it the mail it queued (in the transaction that finished it).
    let outbox = app.outbox();
    let kinds: Vec<&str> = outbox.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["import_summary", "import_summary"],
        "one summary per import, no confirmation per row"
    );
    let summary = |file: &str| {
        outbox
            .iter()
            .find(|m| m.subject.starts_with(&format!("Import {file}:")))
            .unwrap_or_else(|| panic!("no summary of {file}"))
    };
    let one = summary("first.csv");
    assert_eq!(
        one.subject,
        "Import first.csv: 2 booked, 0 refused, 0 already booked"
    );
    assert!(one.body_text.contains(&first), "{}", one.body_text);
    let two = summary("second.csv");
    assert_eq!(
        two.subject,
        "Import second.csv: 1 booked, 2 refused, 2 already booked"
    );
    for want in [
        "5 shipment(s) in the file",
        &format!("Booked: 1 ({charged} charged to your wallet)"),
        "Refused: 2",
        "Already booked: 2",
        "line 5 (ORD-1004): recipient_postal_code: This is not a valid US postal code",
        "line 6 (ORD-1005): channel: Too heavy",
        &second,
    ] {
        assert!(two.body_text.contains(want), "{want} in\n{}", two.body_text);
    }
    assert!(
        two.body_html.contains(&format!("{second}\">")),
        "{}",
        two.body_html
    );
    // Both go out, and nothing else.
    let sent = eventually(10, "the two summaries to be sent", || {
        let m = mails_in(&app.mail_dir);
        (m.len() == 2).then_some(m)
    })
    .await;
    assert!(sent.iter().all(|m| m.contains("Refused: ")), "{sent:?}");

    // A single booking still mails its own confirmation.
    let key = app.api_key(&seller);
    book(&app, &key, crate::fixtures::Booking::on("CNPOST-RAM")).await;
    let kinds: Vec<String> = app.outbox().into_iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "booking_confirmation")
            .count(),
        1,
        "{kinds:?}"
    );
    app.assert_ledger_consistent(&seller);
}

/// A server that dies mid-run leaves its import `running`: another (or the same, restarted)
/// resumes it once it has made no progress for a while, counts the rows it had booked as
/// booked by this import, and queues the one summary — once, however many servers look.
#[actix_web::test]
async fn an_import_left_running_by_a_dead_server_is_resumed_once() {
    use diesel::prelude::*;
    use waybill::db::schema::{imports, outbox};
    let app = spawn_app().await;
    let (v, _) = app.seller_with_address("resumed@example.com").await;
    let sample = sample_csv(&v).await;
    let page = location(&upload(&v, "crash.csv", &sample).await);
    book_and_wait(&v, &page).await;
    let id = page.trim_start_matches("/shipments/import/").to_string();
    // As if the server died after booking both rows, before it recorded the results: the
    // import still running, last heard of ten minutes ago, and no summary queued.
    let ten_minutes_ago = waybill::db::now() - chrono::Duration::minutes(10);
    let mut c = app.conn();
    diesel::update(imports::table.find(&id))
        .set((
            imports::status.eq("running"),
            imports::results.eq(None::<String>),
            imports::booked.eq(0),
            imports::updated_at.eq(ten_minutes_ago),
        ))
        .execute(&mut *c)
        .unwrap();
    diesel::delete(outbox::table.filter(outbox::kind.eq("import_summary")))
        .execute(&mut *c)
        .unwrap();
    drop(c);

    static KEY: [u8; 32] = [7; 32];
    let settings = waybill::services::booking::Settings {
        currency: waybill::domain::Currency::parse("CNY").unwrap(),
        base_url: "",
        quote_key: &KEY,
        confirm_by_mail: false,
    };
    let now = waybill::db::now();
    // Not yet stalled by a clock five minutes behind: nothing to do.
    assert_eq!(
        waybill::services::import::resume_stalled(
            &app.state.pool,
            &settings,
            ten_minutes_ago + chrono::Duration::minutes(4)
        )
        .unwrap(),
        0
    );
    // Two servers look at once: one resumes it.
    let pool = app.state.pool.clone();
    let resumed: usize = concurrently(2, move |_| {
        waybill::services::import::resume_stalled(&pool, &settings, now).unwrap()
    })
    .into_iter()
    .sum();
    assert_eq!(resumed, 1);
    let results = v.get_html(&page).await;
    assert!(
        results.contains("<strong>2</strong> booked, 0 failed."),
        "counted as this import's bookings: {results}"
    );
    let summaries: Vec<_> = app
        .outbox()
        .into_iter()
        .filter(|m| m.kind == "import_summary")
        .collect();
    assert_eq!(summaries.len(), 1);
    assert_eq!(
        summaries[0].subject,
        "Import crash.csv: 2 booked, 0 refused, 0 already booked"
    );
}
