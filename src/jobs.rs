//! Background jobs that `serve` runs on a timer beside the mail worker: work that is due at a
//! time, not on a request (so no page view ever writes as a side effect).

use std::time::Duration;

use crate::db::Pool;
use crate::services::sessions::Lifetimes;

/// How often the periodic jobs look for due work.
const EVERY: Duration = Duration::from_secs(30);

/// Starts the periodic jobs; must run inside a Tokio runtime.
pub fn spawn(pool: Pool, sessions: Lifetimes) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let pool = pool.clone();
            let pass = tokio::task::spawn_blocking(move || run_due(&pool, sessions)).await;
            match pass {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "background jobs failed"),
                Err(e) => tracing::warn!(error = %e, "background jobs panicked"),
            }
        }
    });
}

/// One pass of every periodic job; tests call it to run the jobs now.
pub fn run_due(pool: &Pool, sessions: Lifetimes) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let expired = crate::services::payments::expire_abandoned(&mut conn, crate::db::now())?;
    if expired > 0 {
        tracing::info!(expired, "abandoned top-ups closed");
    }
    let pruned = crate::services::sessions::prune(&mut conn, sessions)?;
    if pruned > 0 {
        tracing::debug!(pruned, "ended sessions deleted");
    }
    Ok(())
}
