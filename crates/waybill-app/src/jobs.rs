//! Background jobs that `serve` runs on a timer beside the mail worker: work that is due at a
//! time, not on a request (so no page view ever writes as a side effect).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::services::pickups;
use crate::services::sessions::Lifetimes;
use crate::services::tracking_log::LogKey;
use waybill_db::Pool;

/// How often the periodic jobs look for due work.
const EVERY: Duration = Duration::from_secs(30);

/// How often the tracking log is checkpointed while events arrive.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(120);

/// Starts the periodic jobs; must run inside a Tokio runtime. `base_url` is for links in mail.
pub fn spawn(pool: Pool, sessions: Lifetimes, base_url: String, log_key: Arc<LogKey>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let (pool, base, key) = (pool.clone(), base_url.clone(), log_key.clone());
            let pass = tokio::task::spawn_blocking(move || {
                run_due_at(&pool, sessions, &base, Utc::now(), Some(&key))
            })
            .await;
            match pass {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "background jobs failed"),
                Err(e) => tracing::warn!(error = %e, "background jobs panicked"),
            }
        }
    });
}

/// How often imports left running by a server that died are looked for.
const IMPORTS_EVERY: Duration = Duration::from_secs(60);

/// Resumes imports whose server died mid-run (`services::import::resume_stalled`), once a
/// minute; must run inside a Tokio runtime.
pub fn spawn_import_resumer(
    pool: Pool,
    currency: waybill_domain::Currency,
    base_url: String,
    quote_key: Arc<[u8; 32]>,
    mail: crate::mail::MailWorker,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(IMPORTS_EVERY);
        loop {
            tick.tick().await;
            let (pool, base, key) = (pool.clone(), base_url.clone(), quote_key.clone());
            let pass = tokio::task::spawn_blocking(move || {
                let settings = crate::services::booking::Settings {
                    currency,
                    base_url: &base,
                    quote_key: &key[..],
                    confirm_by_mail: false,
                };
                crate::services::import::resume_stalled(&pool, &settings, waybill_db::now())
            })
            .await;
            match pass {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(resumed = n, "stalled imports resumed");
                    mail.wake();
                }
                Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "resuming imports failed"),
                Err(e) => tracing::warn!(error = %e, "resuming imports panicked"),
            }
        }
    });
}

/// One pass of every periodic job but the checkpoint, now (mail links relative to the
/// site); tests call it to run the jobs.
pub fn run_due(pool: &Pool, sessions: Lifetimes) -> anyhow::Result<()> {
    run_due_at(pool, sessions, "", Utc::now(), None)
}

/// One pass of every periodic job as if it were `now`, with a checkpoint of the tracking
/// log (given its key) when it has grown and the last one is older than `CHECKPOINT_EVERY`.
pub fn run_due_at(
    pool: &Pool,
    sessions: Lifetimes,
    base_url: &str,
    now: DateTime<Utc>,
    log_key: Option<&LogKey>,
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    if let Some(key) = log_key {
        crate::services::tracking_log::checkpoint_if_due(&mut conn, key, CHECKPOINT_EVERY)?;
    }
    let expired = crate::services::payments::expire_abandoned(&mut conn, now.naive_utc())?;
    if expired > 0 {
        tracing::info!(expired, "abandoned top-ups closed");
    }
    let pruned = crate::services::sessions::prune(&mut conn, sessions)?;
    if pruned > 0 {
        tracing::debug!(pruned, "ended sessions deleted");
    }
    let issues = crate::services::tracking::prune_issues(&mut conn, now.naive_utc())?;
    if issues > 0 {
        tracing::info!(issues, "old tracking issues deleted");
    }
    let settings = pickups::Settings { base_url };
    let missed = pickups::jobs::mark_missed(&mut conn, now, &settings)
        .map_err(|e| anyhow::anyhow!("missed pickups: {e}"))?;
    if missed > 0 {
        tracing::info!(missed, "pickups missed");
    }
    let reminded = pickups::jobs::send_reminders(&mut conn, now, &settings)
        .map_err(|e| anyhow::anyhow!("pickup reminders: {e}"))?;
    if reminded > 0 {
        tracing::info!(reminded, "pickup reminders queued");
    }
    Ok(())
}
