//! The outbox worker: wakes when mail is queued (or every poll interval), claims due rows so
//! several app servers never send the same mail twice, sends up to `mail_concurrency` of them
//! at once, and backs off on failure.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Notify;

use super::Mailer;
use waybill_db::outbox::OutboxMail;
use waybill_db::{self as db, Pool};

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

/// Mail claimed at a time, and outcomes recorded at a time: each batch costs one write
/// transaction to claim and one to record, however many mails it holds.
const BATCH: usize = 50;

/// What became of one claimed mail.
#[derive(Clone)]
struct Outcome {
    id: String,
    kind: String,
    attempts: i32,
    result: Result<(), String>,
}

/// Sends due mail until none is left: claims a batch whenever fewer are waiting than can be
/// in flight, keeps `concurrency` sends going (each a task, so claiming and recording do not
/// hold them up), and records outcomes a batch at a time. Every claimed mail is sent once and
/// its outcome recorded once; outcomes that could not be recorded are tried again three times
/// before the pass gives up (those mails go again when their claims run out).
async fn run_once(pool: &Pool, mailer: &Arc<Mailer>, retry_base: Duration) -> anyhow::Result<()> {
    let lanes = mailer.concurrency().max(1);
    let mut waiting = VecDeque::new();
    let mut sending = FuturesUnordered::new();
    let mut done: Vec<Outcome> = Vec::new();
    let mut more = true;
    let mut failed_records = 0;
    loop {
        if more && waiting.len() < lanes {
            match claim(pool, BATCH.max(lanes)).await {
                Ok(batch) => {
                    more = !batch.is_empty();
                    waiting.extend(batch);
                }
                // Finish what is in flight; the next pass claims again.
                Err(e) if !sending.is_empty() => {
                    tracing::warn!(error = format!("{e:#}"), "mail could not be claimed");
                    more = false;
                }
                Err(e) => return Err(e),
            }
        }
        while sending.len() < lanes
            && let Some(mail) = waiting.pop_front()
        {
            let mailer = mailer.clone();
            sending.push(tokio::spawn(async move {
                let result = mailer.send(&mail).await;
                Outcome {
                    id: mail.id,
                    kind: mail.kind,
                    attempts: mail.attempts,
                    result,
                }
            }));
        }
        match sending.next().await {
            Some(Ok(outcome)) => done.push(outcome),
            // Its claim runs out and the mail is sent again then.
            Some(Err(e)) => tracing::error!(error = %e, "a mail send task failed"),
            None if done.is_empty() => return Ok(()),
            None => {}
        }
        if done.len() >= BATCH || (sending.is_empty() && !done.is_empty()) {
            match record(pool, done.clone(), retry_base).await {
                Ok(()) => {
                    done.clear();
                    failed_records = 0;
                }
                Err(e) if failed_records < 3 => {
                    tracing::warn!(error = format!("{e:#}"), "mail outcomes not recorded yet");
                    failed_records += 1;
                    if sending.is_empty() {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Takes up to `limit` due rows for this worker, in one write transaction.
async fn claim(pool: &Pool, limit: usize) -> anyhow::Result<Vec<OutboxMail>> {
    let p = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<OutboxMail>> {
        let mut conn = p.get()?;
        let now = db::now();
        let until = now + chrono::Duration::from_std(CLAIM_FOR)?;
        Ok(db::write_tx(&mut conn, |c| {
            let mut claimed = Vec::new();
            for id in db::outbox::due(c, now, limit as i64)? {
                claimed.extend(db::outbox::claim(c, &id, now, until)?);
            }
            Ok::<_, diesel::result::Error>(claimed)
        })?)
    })
    .await?
}

/// Marks each mail sent, or failed with its next attempt (dead after `MAX_ATTEMPTS`).
async fn record(pool: &Pool, outcomes: Vec<Outcome>, retry_base: Duration) -> anyhow::Result<()> {
    let p = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = p.get()?;
        db::write_tx(&mut conn, |c| {
            for mail in &outcomes {
                match &mail.result {
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
    .await?
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
