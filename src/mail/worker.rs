//! The outbox worker: wakes when mail is queued (or every poll interval), claims due rows so
//! several app servers never send the same mail twice, and backs off on failure.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::Mailer;
use crate::db::outbox::OutboxMail;
use crate::db::{self, Pool};

/// After this many failed attempts a mail is marked dead (visible to operators).
pub const MAX_ATTEMPTS: i32 = 12;
const CLAIM_FOR: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct MailWorker {
    wake: Arc<Notify>,
}

impl MailWorker {
    /// Tells the worker new mail is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

pub fn spawn_worker(
    pool: Pool,
    mailer: Mailer,
    poll: Duration,
    retry_base: Duration,
) -> MailWorker {
    let wake = Arc::new(Notify::new());
    let handle = MailWorker { wake: wake.clone() };
    let mailer = Arc::new(mailer);
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&pool, &mailer, retry_base).await {
                tracing::warn!(error = format!("{e:#}"), "mail worker pass failed");
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    });
    handle
}

/// Delay before attempt `attempts + 1`: doubles from `base`, at most an hour.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

/// Mail claimed per pass: each pass costs two write transactions, however many it sends.
const BATCH: i64 = 50;

async fn run_once(pool: &Pool, mailer: &Mailer, retry_base: Duration) -> anyhow::Result<()> {
    loop {
        let p = pool.clone();
        let batch = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<OutboxMail>> {
            let mut conn = p.get()?;
            let now = db::now();
            let until = now + chrono::Duration::from_std(CLAIM_FOR)?;
            Ok(db::write_tx(&mut conn, |c| {
                let mut claimed = Vec::new();
                for id in db::outbox::due(c, now, BATCH)? {
                    claimed.extend(db::outbox::claim(c, &id, now, until)?);
                }
                Ok::<_, diesel::result::Error>(claimed)
            })?)
        })
        .await??;
        if batch.is_empty() {
            return Ok(());
        }
        let mut results = Vec::with_capacity(batch.len());
        for mail in batch {
            let result = mailer.send(&mail).await;
            results.push((mail, result));
        }
        let p = pool.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = p.get()?;
            db::write_tx(&mut conn, |c| {
                for (mail, result) in &results {
                    match result {
                        Ok(()) => {
                            tracing::info!(mail = %mail.id, kind = %mail.kind, "mail sent");
                            db::outbox::mark_sent(c, &mail.id, db::now())?;
                        }
                        Err(err) => {
                            let attempts = mail.attempts + 1;
                            let next = (attempts < MAX_ATTEMPTS).then(|| {
                                db::now()
                                    + chrono::Duration::from_std(backoff(retry_base, mail.attempts))
                                        .unwrap_or_else(|_| chrono::Duration::hours(1))
                            });
                            tracing::warn!(mail = %mail.id, attempts, error = %err, "mail not sent");
                            db::outbox::mark_failed(c, &mail.id, err, next)?;
                        }
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })?;
            Ok(())
        })
        .await??;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 0), Duration::from_secs(30));
        assert_eq!(backoff(base, 1), Duration::from_secs(60));
        assert_eq!(backoff(base, 3), Duration::from_secs(240));
        assert_eq!(backoff(base, 11), Duration::from_secs(3600));
        assert_eq!(backoff(base, 1000), Duration::from_secs(3600));
    }
}
