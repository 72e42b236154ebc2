//! Background jobs that `serve` runs on a timer beside the mail worker: work that is due at a
//! time, not on a request (so no page view ever writes as a side effect).

use std::sync::Arc;
use std::time::Duration;

use crate::db::Pool;
use crate::services::tracking_log::LogKey;

/// How often the periodic jobs look for due work.
const EVERY: Duration = Duration::from_secs(30);

/// How often the tracking log is checkpointed while events arrive.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(120);

/// Starts the periodic jobs; must run inside a Tokio runtime.
pub fn spawn(pool: Pool, log_key: Arc<LogKey>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let (pool, key) = (pool.clone(), log_key.clone());
            let pass = tokio::task::spawn_blocking(move || run_due_with(&pool, Some(&key))).await;
            match pass {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "background jobs failed"),
                Err(e) => tracing::warn!(error = %e, "background jobs panicked"),
            }
        }
    });
}

/// One pass of every periodic job but the checkpoint; tests call it to run the jobs now.
pub fn run_due(pool: &Pool) -> anyhow::Result<()> {
    run_due_with(pool, None)
}

/// One pass of every periodic job, with a checkpoint of the tracking log when it has grown
/// and the last one is older than `CHECKPOINT_EVERY`.
pub fn run_due_with(pool: &Pool, log_key: Option<&LogKey>) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    if let Some(key) = log_key {
        crate::services::tracking_log::checkpoint_if_due(&mut conn, key, CHECKPOINT_EVERY)?;
    }
    let expired = crate::services::payments::expire_abandoned(&mut conn, crate::db::now())?;
    if expired > 0 {
        tracing::info!(expired, "abandoned top-ups closed");
    }
    Ok(())
}
