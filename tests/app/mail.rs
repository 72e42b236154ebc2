//! Mail through a real SMTP server on loopback, and nothing lost while it is down.

use waybill::domain::Role;

use crate::helpers::*;

async fn ask_reset(app: &TestApp, email: &str) {
    let r = app
        .visitor()
        .submit("/password/forgot", "/password/forgot", &[("email", email)])
        .await;
    assert_eq!(r.status(), 200);
}

#[actix_web::test]
async fn mail_goes_out_through_smtp() {
    let sink = SmtpSink::start(0).await;
    let app = spawn_app_with(Options {
        mail_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
        ..Default::default()
    })
    .await;
    app.create_user(Role::Seller, "smtp@example.com");
    ask_reset(&app, "smtp@example.com").await;
    eventually(10, "the SMTP sink to receive the mail", || {
        (sink.count() == 1).then_some(())
    })
    .await;
    let msg = sink.messages.lock().unwrap()[0].clone();
    assert!(msg.contains("To: smtp@example.com"), "{msg}");
    assert!(msg.contains("multipart/alternative"));
    assert!(msg.contains("text/html"));
    reset_token_in(&msg);
    let sent = eventually(5, "the outbox row to be marked sent", || {
        app.outbox()
            .into_iter()
            .find(|m| m.status.as_str() == "sent")
    })
    .await;
    assert_eq!(sent.attempts, 1);
}

#[actix_web::test]
async fn mail_queued_while_the_server_is_down_goes_out_once_it_is_up() {
    let port = free_port();
    let app = spawn_app_with(Options {
        mail_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Default::default()
    })
    .await;
    app.create_user(Role::Seller, "patient@example.com");
    ask_reset(&app, "patient@example.com").await;
    let failed = eventually(10, "a failed attempt", || {
        app.outbox().into_iter().find(|m| m.attempts >= 1)
    })
    .await;
    assert_eq!(
        failed.status.as_str(),
        "pending",
        "a failure is retried, not dropped"
    );
    assert!(failed.last_error.is_some());

    let sink = SmtpSink::start(port).await;
    eventually(20, "the mail to arrive after the server came up", || {
        (sink.count() == 1).then_some(())
    })
    .await;
    // The worker records the outcome just after the server has taken the message.
    let mail = eventually(5, "the outbox row to be marked sent", || {
        app.outbox()
            .pop()
            .filter(|m| m.status.as_str() != "pending")
    })
    .await;
    assert_eq!(mail.status.as_str(), "sent");
    assert!(mail.attempts >= 2);
    assert!(sink.messages.lock().unwrap()[0].contains("To: patient@example.com"));
}
