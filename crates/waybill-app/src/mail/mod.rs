//! Outgoing mail: templates are rendered into the `outbox` table inside the caller's
//! transaction; the worker sends due rows, several at once, with retries and back-off.

mod smtp;
mod worker;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

pub use worker::{MailWorker, spawn_worker};

use crate::config::{Config, MailUrl};
use waybill_db::outbox::NewMail;
pub use waybill_db::outbox::OutboxMail;
use waybill_db::{self as db, DbConn};
use waybill_domain::delivery::MailStatus;

/// Stands for `WAYBILL_BASE_URL` in a queued mail; the sender puts the configured one in.
/// Lets a service that has no configuration at hand (a status change deep in tracking) link
/// to a page.
pub const BASE_URL_MARK: &str = "@@waybill-base-url@@";

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

    /// The same mail filed under another kind in the outbox (e.g. a notice's own kind).
    pub fn with_kind(mut self, kind: &'static str) -> Rendered {
        self.kind = kind;
        self
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
                status: MailStatus::Pending,
                attempts: 0,
                next_attempt_at: now,
                created_at: now,
            },
        )?;
        Ok(())
    }
}

/// The configured transport, the sender and how many mails go out at once.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    concurrency: usize,
    base_url: String,
}

enum Transport {
    Smtp(smtp::Relay),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("WAYBILL_MAIL_FROM: {e}"))?;
        let transport = match &config.mail_url {
            // The relay keeps one connection per mail in flight.
            MailUrl::Smtp(url) => Transport::Smtp(
                smtp::Relay::from_url(
                    url.expose(),
                    config.mail_concurrency,
                    std::time::Duration::from_secs(20),
                )
                .map_err(|e| anyhow::anyhow!("WAYBILL_MAIL_URL is not a valid SMTP URL: {e}"))?,
            ),
            MailUrl::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create mail folder {}: {e}", dir.display())
                })?;
                Transport::File(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
        };
        Ok(Mailer {
            transport,
            from,
            concurrency: config.mail_concurrency,
            base_url: config.base_url.trim_end_matches('/').to_string(),
        })
    }

    /// Mails the worker sends at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Sends one outbox row; the error text is stored on the row for operators.
    pub async fn send(&self, mail: &OutboxMail) -> Result<(), String> {
        let to: Mailbox = mail
            .to_addr
            .parse()
            .map_err(|e| format!("invalid recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.body_text.replace(BASE_URL_MARK, &self.base_url),
                mail.body_html.replace(BASE_URL_MARK, &self.base_url),
            ))
            .map_err(|e| format!("cannot build message: {e}"))?;
        match &self.transport {
            Transport::Smtp(relay) => relay.send(message.envelope(), &message.formatted()).await,
            Transport::File(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
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

/// The latest mails of the outbox, sent or not, for the admin's overview.
pub fn recent(conn: &mut DbConn, limit: i64) -> Result<Vec<OutboxMail>, crate::error::AppError> {
    Ok(db::outbox::list_recent(conn, limit)?)
}
