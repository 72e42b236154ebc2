//! The wallet: top-ups through the sandbox gateway, callbacks, concurrency, idempotency.

use std::sync::Arc;

use proptest::prelude::*;
use waybill::domain::Role;
use waybill::error::AppError;
use waybill::services::payments::Notification;
use waybill::services::wallet::Kind;

use crate::helpers::*;

fn seller_id(app: &TestApp, email: &str) -> String {
    waybill::db::users::find_by_email(&mut app.conn(), email)
        .unwrap()
        .unwrap()
        .id
        .into_string()
}

/// Starts a top-up of `amount` and returns the sandbox checkout link it redirects to.
async fn start_top_up(seller: &Visitor, amount: &str) -> String {
    let r = seller
        .submit("/wallet", "/wallet/topup", &[("amount", amount)])
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.contains("/sandbox/checkout?"), "{to}");
    to
}

fn intent_of(checkout: &str) -> String {
    let q = checkout.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
    pairs.into_iter().find(|(k, _)| k == "intent_id").unwrap().1
}

/// Answers the sandbox page as the seller's browser would; returns the return URL.
async fn answer(seller: &Visitor, checkout: &str, action: &str) -> String {
    let q = checkout.split_once('?').unwrap().1;
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
    pairs.push(("action".into(), action.into()));
    let r = seller
        .http
        .post(format!("{}/sandbox/checkout", seller.base))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    location(&r)
}

fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map(|x| x.1).unwrap_or(url);
    &after_scheme[after_scheme.find('/').unwrap()..]
}

#[actix_web::test]
async fn a_top_up_through_the_sandbox_credits_once_and_mails_a_receipt() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "payer@example.com").await;
    let id = seller_id(&app, "payer@example.com");
    let checkout = start_top_up(&seller, "1,250.50").await;
    let page = seller.get_html(path_of(&checkout)).await;
    assert!(page.contains("¥1,250.50"), "{page}");
    let back = answer(&seller, &checkout, "pay").await;
    // The gateway notified the server before sending the browser back.
    assert_eq!(app.balance(&id), 125_050);
    let r = seller.get(path_of(&back)).await;
    assert_eq!(location(&r), "/wallet");
    let wallet = seller.get_html("/wallet").await;
    assert!(wallet.contains("Top-up of ¥1,250.50 received."), "{wallet}");
    assert!(wallet.contains(r#"id="balance">¥1,250.50<"#));
    // The browser return arrived after the notification: still credited once.
    assert_eq!(app.balance(&id), 125_050);
    seller.get(path_of(&back)).await;
    assert_eq!(app.balance(&id), 125_050);
    app.assert_ledger_consistent(&id);
    let mail = eventually(10, "the receipt", || {
        mails_in(&app.mail_dir)
            .into_iter()
            .find(|m| m.contains("Waybill wallet topped up"))
    })
    .await;
    assert!(
        mail.contains("New balance: =C2=A51,250.50") || mail.contains("New balance: ¥1,250.50"),
        "{mail}"
    );
}

#[actix_web::test]
async fn a_declined_payment_credits_nothing() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "decline@example.com").await;
    let id = seller_id(&app, "decline@example.com");
    let checkout = start_top_up(&seller, "80").await;
    let back = answer(&seller, &checkout, "decline").await;
    seller.get(path_of(&back)).await;
    let wallet = seller.get_html("/wallet").await;
    assert!(wallet.contains("The payment was declined"));
    assert!(wallet.contains("declined"));
    assert_eq!(app.balance(&id), 0);
    let intent = waybill::db::ledger::find_intent(&mut app.conn(), &intent_of(&checkout))
        .unwrap()
        .unwrap();
    assert_eq!(intent.status.as_str(), "declined");
}

async fn post_notify(app: &TestApp, ts: &str, sig: &str, body: &str) -> reqwest::Response {
    app.visitor()
        .http
        .post(format!("{}/payments/sandbox/notify", app.address))
        .header("Content-Type", "application/json")
        .header("X-Sandbox-Timestamp", ts)
        .header("X-Sandbox-Signature", sig)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_replayed_notification_credits_once() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "replay@example.com").await;
    let id = seller_id(&app, "replay@example.com");
    let intent = intent_of(&start_top_up(&seller, "300").await);
    let n = Notification {
        intent_id: intent,
        status: "succeeded".into(),
        amount: 30_000,
        currency: "CNY".into(),
        provider_ref: "SBX-replay".into(),
    };
    let (ts, sig, body) = app
        .state
        .sandbox
        .notification(&n, chrono::Utc::now().timestamp());
    let first: serde_json::Value = post_notify(&app, &ts, &sig, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["replayed"], false);
    for _ in 0..3 {
        let r = post_notify(&app, &ts, &sig, &body).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["replayed"],
            true
        );
    }
    assert_eq!(app.balance(&id), 30_000);
    app.assert_ledger_consistent(&id);
}

#[actix_web::test]
async fn forged_or_tampered_callbacks_are_refused() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "forged@example.com").await;
    let id = seller_id(&app, "forged@example.com");
    let intent = intent_of(&start_top_up(&seller, "50").await);
    let n = Notification {
        intent_id: intent.clone(),
        status: "succeeded".into(),
        amount: 5_000,
        currency: "CNY".into(),
        provider_ref: "SBX-x".into(),
    };
    let now = chrono::Utc::now().timestamp();
    let (ts, sig, body) = app.state.sandbox.notification(&n, now);
    // Tampered amount, forged signature, another key's signature, stale timestamp.
    let tampered = body.replace("5000", "500000");
    assert_eq!(post_notify(&app, &ts, &sig, &tampered).await.status(), 401);
    assert_eq!(
        post_notify(&app, &ts, &format!("sha256={}", "0".repeat(64)), &body)
            .await
            .status(),
        401
    );
    let stranger = waybill::services::payments::Sandbox::new(
        b"not-the-waybill-secret-0123456789",
        &app.address,
    );
    let (sts, ssig, sbody) = stranger.notification(&n, now);
    assert_eq!(post_notify(&app, &sts, &ssig, &sbody).await.status(), 401);
    let (old_ts, old_sig, old_body) = app.state.sandbox.notification(&n, now - 3600);
    assert_eq!(
        post_notify(&app, &old_ts, &old_sig, &old_body)
            .await
            .status(),
        401
    );
    // A genuine signature over an amount that differs from the intent is refused too.
    let wrong = Notification {
        amount: 999_900,
        ..n.clone()
    };
    let (wts, wsig, wbody) = app.state.sandbox.notification(&wrong, now);
    assert_eq!(post_notify(&app, &wts, &wsig, &wbody).await.status(), 400);
    // A tampered browser return.
    let back = app.state.sandbox.return_url(&n, now);
    let forged = path_of(&back).replace("amount=5000", "amount=900000");
    assert_eq!(seller.get(&forged).await.status(), 400);
    assert_eq!(app.balance(&id), 0, "nothing was credited");
    assert_eq!(
        waybill::db::ledger::find_intent(&mut app.conn(), &intent)
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "pending"
    );
}

#[actix_web::test]
async fn another_seller_cannot_settle_my_top_up_from_their_session() {
    let app = spawn_app().await;
    let a = app.signed_in(Role::Seller, "owner@example.com").await;
    let b = app.signed_in(Role::Seller, "other@example.com").await;
    let checkout = start_top_up(&a, "20").await;
    let n = Notification {
        intent_id: intent_of(&checkout),
        status: "succeeded".into(),
        amount: 2_000,
        currency: "CNY".into(),
        provider_ref: "SBX-b".into(),
    };
    let back = app
        .state
        .sandbox
        .return_url(&n, chrono::Utc::now().timestamp());
    assert_eq!(b.get(path_of(&back)).await.status(), 404);
    assert_eq!(app.balance(&seller_id(&app, "other@example.com")), 0);
    assert_eq!(app.balance(&seller_id(&app, "owner@example.com")), 0);
}

#[actix_web::test]
async fn abandoned_top_ups_expire_and_their_link_stops_working() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "abandon@example.com").await;
    let id = seller_id(&app, "abandon@example.com");
    let r = seller
        .submit("/wallet", "/wallet/topup", &[("amount", "0.50")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Top up between ¥1.00 and ¥500,000.00.")
    );
    let intent_id = intent_of(&start_top_up(&seller, "10").await);
    let mut intent = waybill::db::ledger::find_intent(&mut app.conn(), &intent_id)
        .unwrap()
        .unwrap();
    intent.expires_at = waybill::db::now() - chrono::Duration::minutes(1);
    let stale = app.state.payments.checkout_url(&intent);
    let r = seller.get(path_of(&stale)).await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This payment link has expired")
    );
    // As the database sees it: past its deadline, the intent is closed as abandoned.
    use diesel::prelude::*;
    diesel::update(waybill::db::schema::payment_intents::table.find(&intent_id))
        .set(waybill::db::schema::payment_intents::expires_at.eq(intent.expires_at))
        .execute(&mut *app.conn())
        .unwrap();
    assert!(seller.get_html("/wallet").await.contains("abandoned"));
    // The page only shows it; the background job closes it.
    let sessions = waybill::services::sessions::Lifetimes::of(&app.state.config);
    waybill::jobs::run_due(&app.state.pool, sessions).unwrap();
    assert_eq!(
        waybill::db::ledger::find_intent(&mut app.conn(), &intent_id)
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "expired"
    );
    assert_eq!(app.balance(&id), 0);
}

#[actix_web::test]
async fn concurrent_charges_never_overdraw() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Seller, "busy@example.com").id;
    app.post(&id, Kind::TopUp, 10_000, "fund").unwrap();
    let (pool, seller) = (app.state.pool.clone(), id.clone());
    let results = concurrently(24, move |i| {
        post_on(
            &mut pool.get().unwrap(),
            &seller,
            Kind::Charge,
            1_000,
            &format!("charge-{i}"),
            None,
        )
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let short = results
        .iter()
        .filter(|r| matches!(r, Err(AppError::PaymentRequired(_))))
        .count();
    assert_eq!((ok, short), (10, 14), "{results:?}");
    assert_eq!(app.balance(&id), 0);
    app.assert_ledger_consistent(&id);
}

#[actix_web::test]
async fn concurrent_debit_requests_never_overdraw() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Seller, "target@example.com").id;
    app.post(&id, Kind::TopUp, 5_000, "fund").unwrap();
    let admin = Arc::new(app.signed_in(Role::Admin, "ops@example.com").await);
    let token = admin.csrf("/admin/wallets").await;
    // Every request is in flight before the first answer is read.
    let statuses = concurrently_async(12, |i| {
        let (admin, token) = (admin.clone(), token.clone());
        async move {
            let nonce = format!("concurrent-debit-{i:04}");
            admin
                .post_form(
                    "/admin/wallets",
                    &[
                        ("csrf_token", &token),
                        ("email", "target@example.com"),
                        ("direction", "debit"),
                        ("amount", "10.00"),
                        ("note", "test debit"),
                        ("nonce", &nonce),
                    ],
                )
                .await
                .status()
                .as_u16()
        }
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(app.balance(&id), 0);
    app.assert_ledger_consistent(&id);
}

#[actix_web::test]
async fn one_idempotency_key_moves_money_once() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Seller, "idem@example.com").id;
    let first = app.post(&id, Kind::TopUp, 7_000, "k-1").unwrap();
    let again = app.post(&id, Kind::TopUp, 7_000, "k-1").unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!(again.transaction.id, first.transaction.id);
    assert_eq!(again.balance_after, 7_000);
    assert!(matches!(
        app.post(&id, Kind::TopUp, 8_000, "k-1"),
        Err(AppError::Conflict(_))
    ));
    // The same key raced from many threads at once.
    let (pool, seller) = (app.state.pool.clone(), id.clone());
    let posted = concurrently(8, move |_| {
        post_on(
            &mut pool.get().unwrap(),
            &seller,
            Kind::Charge,
            500,
            "k-race",
            None,
        )
        .unwrap()
    });
    assert_eq!(posted.iter().filter(|p| !p.replayed).count(), 1);
    assert_eq!(app.balance(&id), 6_500);
    app.assert_ledger_consistent(&id);
}

#[derive(Debug, Clone)]
struct Op {
    kind: Kind,
    amount: i64,
    key: u8,
    shipment: u8,
}

fn op() -> impl Strategy<Value = Op> {
    (0..Kind::ALL.len(), 1i64..20_000, 0u8..12, 0u8..3).prop_map(|(k, amount, key, shipment)| Op {
        kind: Kind::ALL[k],
        amount,
        key,
        shipment,
    })
}

fn about_a_shipment(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Charge | Kind::Refund | Kind::AdjustCharge | Kind::AdjustRefund
    )
}

/// Random sequences of every kind of movement, with repeated keys, against a model:
/// each transaction balances, the balance equals the sum of entries and the model, it never
/// goes negative, a repeated key moves nothing, and no shipment refunds more than it paid.
#[test]
fn random_operations_keep_the_ledger_balanced() {
    let rt = actix_web::rt::System::new();
    let app = rt.block_on(spawn_app());
    let config = ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let case = std::cell::Cell::new(0);
    runner
        .run(&proptest::collection::vec(op(), 1..30), |ops| {
            case.set(case.get() + 1);
            let id = app
                .create_user(Role::Seller, &format!("prop{}@example.com", case.get()))
                .id;
            let mut balance = 0i64;
            let mut held = [0i64; 3];
            let mut seen: std::collections::HashMap<u8, (Kind, i64, Option<u8>)> =
                Default::default();
            for op in ops {
                let shipment = about_a_shipment(op.kind).then_some(op.shipment);
                let shipment_id = shipment.map(|s| format!("{id}-shipment-{s}"));
                let key = format!("{id}:{}", op.key);
                let r = post_on(
                    &mut app.conn(),
                    &id,
                    op.kind,
                    op.amount,
                    &key,
                    shipment_id.as_deref(),
                );
                let this = (op.kind, op.amount, shipment);
                match (seen.get(&op.key), &r) {
                    (Some(prev), Ok(p)) => prop_assert!(p.replayed && *prev == this),
                    (Some(prev), Err(AppError::Conflict(_))) => prop_assert!(*prev != this),
                    (None, Ok(p)) => {
                        prop_assert!(!p.replayed);
                        let delta = if op.kind.credits_wallet() {
                            op.amount
                        } else {
                            -op.amount
                        };
                        balance += delta;
                        if let Some(s) = shipment {
                            held[s as usize] -= delta;
                        }
                        seen.insert(op.key, this);
                    }
                    (None, Err(AppError::PaymentRequired(_))) => prop_assert!(balance < op.amount),
                    (None, Err(AppError::Conflict(_))) => {
                        prop_assert!(
                            op.kind.credits_wallet() && held[op.shipment as usize] < op.amount
                        )
                    }
                    (_, other) => prop_assert!(false, "unexpected {other:?}"),
                }
                prop_assert_eq!(app.balance(&id), balance);
                prop_assert!(held.iter().all(|h| *h >= 0));
            }
            app.assert_ledger_consistent(&id);
            Ok(())
        })
        .unwrap();
}

#[actix_web::test]
async fn refunds_never_exceed_what_a_shipment_was_charged() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Seller, "refunds@example.com").id;
    app.post(&id, Kind::TopUp, 10_000, "fund").unwrap();
    let move_ = |kind, minor, key: &str, shipment: Option<&str>| {
        post_on(&mut app.conn(), &id, kind, minor, key, shipment)
    };
    move_(Kind::Charge, 3_000, "charge", Some("S1")).unwrap();
    assert!(matches!(
        move_(Kind::Refund, 500, "no-ship", None),
        Err(AppError::BadRequest(_))
    ));
    assert!(matches!(
        move_(Kind::Refund, 3_001, "too-much", Some("S1")),
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        move_(Kind::Refund, 100, "other", Some("S2")),
        Err(AppError::Conflict(_))
    ));
    move_(Kind::Refund, 1_000, "partial", Some("S1")).unwrap();
    // The warehouse weighed it heavier: charge the difference; then lighter: refund it.
    let up = waybill::services::wallet::adjust(
        &mut app.conn(),
        "w1",
        &id,
        "S1",
        cny(400),
        Some("2.1 kg"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(up.transaction.kind, "weight_adjustment_charge");
    let down = waybill::services::wallet::adjust(&mut app.conn(), "w2", &id, "S1", cny(-900), None)
        .unwrap()
        .unwrap();
    assert_eq!(down.transaction.kind, "weight_adjustment_refund");
    assert!(
        waybill::services::wallet::adjust(&mut app.conn(), "w3", &id, "S1", cny(0), None)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        waybill::db::ledger::net_charged_for_shipment(&mut app.conn(), "S1").unwrap(),
        1_500
    );
    move_(Kind::Refund, 1_500, "rest", Some("S1")).unwrap();
    assert!(matches!(
        move_(Kind::Refund, 1, "more", Some("S1")),
        Err(AppError::Conflict(_))
    ));
    assert_eq!(app.balance(&id), 10_000);
    app.assert_ledger_consistent(&id);
}

#[actix_web::test]
async fn the_wallet_page_lists_entries_newest_first_with_pages_and_a_csv() {
    let app = spawn_app().await;
    let seller = app.signed_in(Role::Seller, "statement@example.com").await;
    let id = seller_id(&app, "statement@example.com");
    app.post(&id, Kind::TopUp, 100_000, "s-0").unwrap();
    for i in 1..=29 {
        app.post(&id, Kind::Charge, 100 * i, &format!("s-{i}"))
            .unwrap();
    }
    let page1 = seller.get_html("/wallet").await;
    assert!(page1.contains("Page 1 of 2"));
    let first_row = page1
        .find("<td class=\"num debit\">−¥29.00</td>")
        .expect("newest first");
    assert!(first_row < page1.find("−¥28.00").unwrap());
    let page2 = seller.get_html("/wallet?page=2").await;
    assert!(page2.contains("¥1,000.00") && page2.contains("Top-up"));
    let today = seller_today().to_string();
    let r = seller
        .get(&format!("/wallet/statement.csv?from={today}&to={today}"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a UTF-8 byte order mark, for Excel on Chinese Windows"
    );
    let csv = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "date_utc,kind,shipment_id,note,amount,balance_after,currency,transaction_id,tracking_number,reference,date_local"
    );
    assert_eq!(lines.len(), 31);
    assert!(
        lines[1].contains(",top_up,,,1000.00,1000.00,CNY,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[30].contains(",freight_charge,,,-29.00,565.00,CNY,"),
        "{}",
        lines[30]
    );
    let r = seller
        .get("/wallet/statement.csv?from=2026-13-01&to=x")
        .await;
    assert_eq!(r.status(), 400);
    // Another seller's statement is empty.
    let other = app.signed_in(Role::Seller, "nosy@example.com").await;
    let csv = other
        .get(&format!("/wallet/statement.csv?from={today}&to={today}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1);
}

#[actix_web::test]
async fn the_api_shows_balance_and_recent_entries() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Seller, "apiwallet@example.com").id;
    app.post(&id, Kind::TopUp, 20_000, "a-1").unwrap();
    app.post(&id, Kind::Charge, 4_550, "a-2").unwrap();
    let (key, prefix, hash) = waybill::security::new_api_key().unwrap();
    waybill::db::api_keys::insert(
        &mut app.conn(),
        &waybill::db::api_keys::NewApiKey {
            id: "k1",
            seller_id: &id,
            name: "t",
            prefix: &prefix,
            key_hash: &hash,
            created_at: waybill::db::now(),
        },
    )
    .unwrap();
    let r = app.api_get(&key, "/wallet").await;
    assert_eq!(r.status(), 200);
    let w: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        w["balance"],
        serde_json::json!({"amount": 15_450, "currency": "CNY"})
    );
    assert_eq!(w["entries"][0]["kind"], "freight_charge");
    assert_eq!(w["entries"][0]["amount"], -4_550);
    assert_eq!(w["entries"][0]["balance_after"], 15_450);
    assert_eq!(w["entries"][1]["kind"], "top_up");
}

#[actix_web::test]
async fn operators_credit_and_debit_with_a_note_and_their_name() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Seller, "corrected@example.com").id;
    let admin = app.signed_in(Role::Admin, "boss@example.com").await;
    let page = admin.get_html("/admin/wallets").await;
    let nonce_at = page.find("name=\"nonce\" value=\"").unwrap() + 20;
    let nonce = page[nonce_at..nonce_at + 32].to_string();
    let token = csrf_in(&page);
    let no_note = admin
        .post_form(
            "/admin/wallets",
            &[
                ("csrf_token", &token),
                ("email", "corrected@example.com"),
                ("direction", "credit"),
                ("amount", "25"),
                ("note", ""),
                ("nonce", &nonce),
            ],
        )
        .await;
    assert_eq!(no_note.status(), 422);
    assert!(no_note.text().await.unwrap().contains("id=\"note-error\""));
    let fields = [
        ("csrf_token", token.as_str()),
        ("email", "corrected@example.com"),
        ("direction", "credit"),
        ("amount", "25"),
        ("note", "goodwill: late pickup"),
        ("nonce", &nonce),
    ];
    assert_eq!(
        admin.post_form("/admin/wallets", &fields).await.status(),
        303
    );
    assert_eq!(
        admin.post_form("/admin/wallets", &fields).await.status(),
        303,
        "a double submit"
    );
    assert_eq!(app.balance(&id), 2_500, "moved once");
    let page = admin.get_html("/admin/wallets").await;
    assert!(page.contains("goodwill: late pickup") && page.contains("boss@example.com"));
    let over = admin
        .submit(
            "/admin/wallets",
            "/admin/wallets",
            &[
                ("email", "corrected@example.com"),
                ("direction", "debit"),
                ("amount", "30"),
                ("note", "x"),
                ("nonce", "0123456789abcdef0123"),
            ],
        )
        .await;
    assert_eq!(over.status(), 422);
    assert!(
        over.text()
            .await
            .unwrap()
            .contains("The wallet balance is ¥25.00")
    );
    let t = waybill::db::ledger::recent_of_kinds(&mut app.conn(), &["manual_credit"], 5).unwrap();
    assert_eq!(t.len(), 1);
    assert!(t[0].actor_id.is_some());
    app.assert_ledger_consistent(&id);
}

#[actix_web::test]
async fn production_takes_no_sandbox_payments_unless_asked() {
    let app = spawn_app_with(Options {
        env: vec![("WAYBILL_MODE", "production")],
        ..Default::default()
    })
    .await;
    let seller = app.signed_in(Role::Seller, "prod@example.com").await;
    let id = seller_id(&app, "prod@example.com");
    let page = seller.get_html("/wallet").await;
    assert!(page.contains("id=\"top-up-off\""));
    let r = seller
        .submit("/wallet", "/wallet/topup", &[("amount", "100")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Online top-up is not available yet")
    );
    let n = Notification {
        intent_id: "x".into(),
        status: "succeeded".into(),
        amount: 100,
        currency: "CNY".into(),
        provider_ref: "SBX".into(),
    };
    let (ts, sig, body) = app
        .state
        .sandbox
        .notification(&n, chrono::Utc::now().timestamp());
    assert_eq!(post_notify(&app, &ts, &sig, &body).await.status(), 404);
    assert_eq!(
        seller
            .get("/sandbox/checkout?intent_id=x&amount=1&currency=CNY&expires=9999999999&sig=x")
            .await
            .status(),
        404
    );
    assert_eq!(app.balance(&id), 0);
}

/// Amounts as the CSV writes them ("-29.00") in minor units.
fn minor(decimal: &str) -> i64 {
    decimal.replace('.', "").parse().unwrap()
}

#[actix_web::test]
async fn statements_follow_the_balance_under_parallel_load() {
    let app = spawn_app().await;
    let shipper = app.api_seller("parallel@example.com", 1_000_000).await;
    let admin = Arc::new(app.signed_in(Role::Admin, "ops@example.com").await);
    let token = admin.csrf("/admin/wallets").await;
    let key = Arc::new(shipper.key().to_string());
    let address = app.address.clone();
    // Freight charges through the API and operator credits through the page, all at once.
    let mut requests = Vec::new();
    for i in 0..40 {
        let (key, address) = (key.clone(), address.clone());
        requests.push(actix_web::rt::spawn(async move {
            let booking = crate::fixtures::Booking::on("CNPOST-RAM");
            let r = api_post_at(&address, &key, "/shipments", booking, None).await;
            r.status().as_u16()
        }));
        let (admin, token) = (admin.clone(), token.clone());
        requests.push(actix_web::rt::spawn(async move {
            let nonce = format!("parallel-credit-{i:04}");
            let amount = format!("{}.{:02}", 1 + i % 7, i);
            admin
                .post_form(
                    "/admin/wallets",
                    &[
                        ("csrf_token", token.as_str()),
                        ("email", "parallel@example.com"),
                        ("direction", "credit"),
                        ("amount", &amount),
                        ("note", "parallel credit"),
                        ("nonce", &nonce),
                    ],
                )
                .await
                .status()
                .as_u16()
        }));
    }
    for r in requests {
        let status = r.await.unwrap();
        assert!(status == 201 || status == 303, "{status}");
    }
    app.assert_ledger_consistent(&shipper.id);

    // The CSV, oldest first: each balance is the one before plus the entry's amount.
    let seller = app.visitor();
    assert_eq!(
        seller
            .login("parallel@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let today = seller_today().to_string();
    let csv = seller
        .get(&format!("/wallet/statement.csv?from={today}&to={today}"))
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<(i64, i64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (minor(f[4]), minor(f[5]))
        })
        .collect();
    assert_eq!(rows.len(), 81, "the top-up and 80 movements");
    let broken: Vec<_> = rows
        .windows(2)
        .filter(|w| w[1].1 != w[0].1 + w[1].0)
        .collect();
    assert!(
        broken.is_empty(),
        "{} out of order: {broken:?}",
        broken.len()
    );
    assert_eq!(rows.last().unwrap().1, app.balance(&shipper.id));

    // The API, newest first: the same chain read backwards.
    let w: serde_json::Value = app
        .api_get(shipper.key(), "/wallet")
        .await
        .json()
        .await
        .unwrap();
    let entries = w["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 50);
    assert_eq!(entries[0]["balance_after"], app.balance(&shipper.id));
    for pair in entries.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert_eq!(
            newer["balance_after"].as_i64().unwrap(),
            older["balance_after"].as_i64().unwrap() + newer["amount"].as_i64().unwrap(),
            "{newer} follows {older}"
        );
    }
}

/// Applies the migrations in `dir` up to, not including, the first whose name contains `stop`.
fn migrate_until<DB: diesel::backend::Backend>(
    conn: &mut impl diesel_migrations::MigrationHarness<DB>,
    dir: &str,
    stop: &str,
) {
    let all = diesel_migrations::FileBasedMigrations::from_path(dir).unwrap();
    loop {
        let pending = conn.pending_migrations(all.clone()).unwrap();
        let Some(next) = pending.first() else { return };
        if next.name().to_string().contains(stop) {
            return;
        }
        conn.run_migration(next.as_ref()).unwrap();
    }
}

#[test]
fn the_migration_numbers_existing_entries_in_the_order_the_balance_moved() {
    use diesel::connection::SimpleConnection;
    let db = TestDb::for_backend();
    let url = waybill::db::DbUrl::parse(&db.url).unwrap();
    let pool = waybill::db::connect(&url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    match &mut *conn {
        waybill::db::DbConn::Sqlite(c) => migrate_until(c, "migrations/sqlite", "wallet_entry_seq"),
        waybill::db::DbConn::Postgres(c) => {
            migrate_until(c, "migrations/postgres", "wallet_entry_seq")
        }
    }
    // Entries as the old code wrote them: ids in the order the balance moved, created_at not
    // (the second movement took its time before the first and waited for the row lock).
    conn.batch_execute(
        "INSERT INTO users (id, email, password_hash, role, name, phone, disabled, created_at) VALUES \
           ('s1', 'one@example.com', 'x', 'seller', 'One', '13800138000', FALSE, '2026-01-01 09:00:00'), \
           ('s2', 'two@example.com', 'x', 'seller', 'Two', '13800138000', FALSE, '2026-01-01 09:00:00'); \
         INSERT INTO wallets (seller_id, currency, balance, updated_at) VALUES \
           ('s1', 'CNY', 700, '2026-01-01 10:00:03'), ('s2', 'CNY', 50, '2026-01-01 10:00:00'); \
         INSERT INTO ledger_transactions (id, idempotency_key, kind, seller_id, amount, currency, created_at) VALUES \
           ('t1', 'k1', 'top_up', 's1', 1000, 'CNY', '2026-01-01 10:00:01'), \
           ('t2', 'k2', 'freight_charge', 's1', 100, 'CNY', '2026-01-01 10:00:00'), \
           ('t3', 'k3', 'freight_charge', 's1', 200, 'CNY', '2026-01-01 10:00:02'), \
           ('t4', 'k4', 'top_up', 's2', 50, 'CNY', '2026-01-01 10:00:00'); \
         INSERT INTO ledger_entries (id, transaction_id, account, seller_id, amount, currency, balance_after, created_at) VALUES \
           ('e1', 't1', 'seller_wallet', 's1', 1000, 'CNY', 1000, '2026-01-01 10:00:01'), \
           ('e1c', 't1', 'payment_clearing', NULL, -1000, 'CNY', NULL, '2026-01-01 10:00:01'), \
           ('e2', 't2', 'seller_wallet', 's1', -100, 'CNY', 900, '2026-01-01 10:00:00'), \
           ('e2c', 't2', 'freight_revenue', NULL, 100, 'CNY', NULL, '2026-01-01 10:00:00'), \
           ('e3', 't3', 'seller_wallet', 's1', -200, 'CNY', 700, '2026-01-01 10:00:02'), \
           ('e3c', 't3', 'freight_revenue', NULL, 200, 'CNY', NULL, '2026-01-01 10:00:02'), \
           ('e4', 't4', 'seller_wallet', 's2', 50, 'CNY', 50, '2026-01-01 10:00:00'), \
           ('e4c', 't4', 'payment_clearing', NULL, -50, 'CNY', NULL, '2026-01-01 10:00:00');",
    )
    .unwrap();
    // The numbering migration runs first; later ones (added since) may follow it.
    let applied = waybill::db::migrate(&mut conn).unwrap();
    assert!(
        applied
            .first()
            .is_some_and(|v| v.replace('-', "").starts_with("20261124000008")),
        "{applied:?}"
    );

    use diesel::prelude::*;
    use waybill::db::schema::{ledger_entries as le, wallets};
    let numbered: Vec<(String, Option<i64>)> = le::table
        .order(le::id.asc())
        .select((le::id, le::seq))
        .load(&mut *conn)
        .unwrap();
    let numbered: Vec<(&str, Option<i64>)> =
        numbered.iter().map(|(id, s)| (id.as_str(), *s)).collect();
    assert_eq!(
        numbered,
        [
            ("e1", Some(1)),
            ("e1c", None),
            ("e2", Some(2)),
            ("e2c", None),
            ("e3", Some(3)),
            ("e3c", None),
            ("e4", Some(1)),
            ("e4c", None),
        ]
    );
    let last: Vec<(String, i64)> = wallets::table
        .order(wallets::seller_id.asc())
        .select((wallets::seller_id, wallets::last_seq))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(last, [("s1".to_string(), 3), ("s2".to_string(), 1)]);

    // The next movement continues the numbering, and the statement follows the balance.
    post_on(&mut conn, "s1", Kind::Charge, 300, "k5", None).unwrap();
    let lines = waybill::db::ledger::statement_page(&mut conn, "s1", 0, 10).unwrap();
    let shown: Vec<(Option<i64>, Option<i64>)> = lines
        .iter()
        .map(|l| (l.entry.seq, l.entry.balance_after))
        .collect();
    assert_eq!(
        shown,
        [
            (Some(4), Some(400)),
            (Some(3), Some(700)),
            (Some(2), Some(900)),
            (Some(1), Some(1000))
        ]
    );
}

/// A freight line names its shipment as people know it: the tracking number, linked, on the
/// page; tracking number, reference and the seller's local time in the CSV.
#[actix_web::test]
async fn statement_lines_name_their_shipment_by_tracking_number() {
    let app = spawn_app().await;
    let seller = app
        .seller("named@example.com")
        .funded(200_000)
        .with_key()
        .with_address()
        .signed_in()
        .build()
        .await;
    let s = book(
        &app,
        seller.key(),
        crate::fixtures::Booking::on("CNPOST-RAM").reference("ORD-WALLET-1"),
    )
    .await;
    let (id, tn) = (
        s["id"].as_str().unwrap(),
        s["tracking_number"].as_str().unwrap(),
    );
    let v = seller.visitor();
    let page = v.get_html("/wallet").await;
    assert!(
        page.contains(&format!(
            "<a href=\"/shipments/{id}\"><code>{tn}</code></a>"
        )),
        "{page}"
    );
    let today = seller_today();
    let csv = v
        .get(&format!("/wallet/statement.csv?from={today}&to={today}"))
        .await
        .text()
        .await
        .unwrap();
    let freight = csv
        .lines()
        .find(|l| l.contains(",freight_charge,"))
        .expect("the freight line");
    assert!(
        freight.contains(&format!(",{tn},ORD-WALLET-1,{today} ")) && freight.ends_with(" UTC+8"),
        "{freight}"
    );
}
