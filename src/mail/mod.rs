//! Outgoing mail: templates are rendered into the `outbox` table inside the caller's
//! transaction; the worker sends due rows with retries and back-off.

mod worker;

use std::path::PathBuf;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use worker::{MailWorker, spawn_worker};

use crate::config::{Config, MailUrl};
use crate::db::outbox::{NewMail, OutboxMail};
use crate::db::{self, DbConn};

/// A mail Waybill knows how to write: a subject and a text and an HTML body.
pub trait Mail {
    const KIND: &'static str;
    fn subject(&self) -> String;
    fn text(&self) -> askama::Result<String>;
    fn html(&self) -> askama::Result<String>;
}

/// Queues a mail; call inside the transaction that makes the change it announces.
pub fn enqueue<T: Mail>(conn: &mut DbConn, to: &str, mail: &T) -> anyhow::Result<()> {
    Rendered::of(mail)?.enqueue(conn, to)
}

/// A mail rendered ahead of the transaction that queues it: inside a write transaction
/// every queued writer waits for the tens of microseconds two templates take.
pub struct Rendered {
    kind: &'static str,
    subject: String,
    text: String,
    html: String,
}

impl Rendered {
    pub fn of<T: Mail>(mail: &T) -> anyhow::Result<Rendered> {
        Ok(Rendered {
            kind: T::KIND,
            subject: mail.subject(),
            text: mail.text()?,
            html: mail.html()?,
        })
    }

    /// Puts in a value known only inside the transaction (rendered as `marker`). The value
    /// must need no HTML escaping.
    pub fn fill(&mut self, marker: &str, value: &str) {
        for part in [&mut self.subject, &mut self.text, &mut self.html] {
            if part.contains(marker) {
                *part = part.replace(marker, value);
            }
        }
    }

    /// Queues it; call inside the transaction that makes the change it announces.
    pub fn enqueue(&self, conn: &mut DbConn, to: &str) -> anyhow::Result<()> {
        let now = db::now();
        let id = db::new_id();
        db::outbox::insert(
            conn,
            &NewMail {
                id: &id,
                kind: self.kind,
                to_addr: to,
                subject: &self.subject,
                body_text: &self.text,
                body_html: &self.html,
                status: "pending",
                attempts: 0,
                next_attempt_at: now,
                created_at: now,
            },
        )?;
        Ok(())
    }
}

/// The configured transport.
pub enum Mailer {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>, Mailbox),
    File(AsyncFileTransport<Tokio1Executor>, Mailbox, PathBuf),
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("WAYBILL_MAIL_FROM: {e}"))?;
        match &config.mail_url {
            MailUrl::Smtp(url) => {
                // Not `{e}` of the URL itself: it may carry the password.
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("WAYBILL_MAIL_URL is not a valid SMTP URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build();
                Ok(Mailer::Smtp(Box::new(transport), from))
            }
            MailUrl::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create mail folder {}: {e}", dir.display())
                })?;
                Ok(Mailer::File(
                    AsyncFileTransport::<Tokio1Executor>::new(dir),
                    from,
                    dir.clone(),
                ))
            }
        }
    }

    fn from(&self) -> &Mailbox {
        match self {
            Mailer::Smtp(_, from) | Mailer::File(_, from, _) => from,
        }
    }

    /// Sends one outbox row; the error text is stored on the row for operators.
    pub async fn send(&self, mail: &OutboxMail) -> Result<(), String> {
        let to: Mailbox = mail
            .to_addr
            .parse()
            .map_err(|e| format!("invalid recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from().clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.body_text.clone(),
                mail.body_html.clone(),
            ))
            .map_err(|e| format!("cannot build message: {e}"))?;
        match self {
            Mailer::Smtp(t, _) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::File(t, _, _) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
pub struct PasswordResetText<'a> {
    pub name: &'a str,
    pub link: &'a str,
    pub minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
pub struct PasswordResetHtml<'a> {
    pub name: &'a str,
    pub link: &'a str,
    pub minutes: i64,
}

pub struct PasswordReset<'a> {
    pub name: &'a str,
    pub link: &'a str,
    pub minutes: i64,
}

impl Mail for PasswordReset<'_> {
    const KIND: &'static str = "password_reset";
    fn subject(&self) -> String {
        "Reset your Waybill password".into()
    }
    fn text(&self) -> askama::Result<String> {
        PasswordResetText {
            name: self.name,
            link: self.link,
            minutes: self.minutes,
        }
        .render()
    }
    fn html(&self) -> askama::Result<String> {
        PasswordResetHtml {
            name: self.name,
            link: self.link,
            minutes: self.minutes,
        }
        .render()
    }
}
