//! The webhook delivery worker: claims due deliveries from the outbox (a lease, so several
//! servers on one database never send the same attempt), POSTs each signed with the
//! endpoint's keys, records every attempt, retries on the Standard Webhooks schedule and
//! disables an endpoint that answers 410 Gone.

pub mod client;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use waybill_domain::delivery::{DeliveryStatus, EndpointStatus};

use tokio::sync::Notify;

use crate::services::webhooks::{SecretBox, check_url, signature_header, signing_keys};
use waybill_db::webhooks::{Attempt, Delivery, Endpoint, Outcome};
use waybill_db::{self as db, Pool};

/// Waits after failed attempts 1, 2, … (seconds): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h;
/// after the eighth attempt the delivery is given up.
pub const SCHEDULE: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// Deliveries claimed per pass; they are sent concurrently.
const BATCH: i64 = 32;
/// The longest the worker sleeps when nothing wakes it and nothing is due sooner.
const POLL: Duration = Duration::from_secs(1);

/// The wait before the next attempt after `attempts` failed ones (`None`: give up), with the
/// schedule multiplied by `scale` (1 in production; tests shrink it).
pub fn retry_after(attempts: i32, scale: f64) -> Option<Duration> {
    let i = usize::try_from(attempts).ok()?.checked_sub(1)?;
    SCHEDULE
        .get(i)
        .map(|s| Duration::from_secs_f64(*s as f64 * scale))
}

#[derive(Clone)]
pub struct Settings {
    pub allow_private: bool,
    pub backoff_scale: f64,
    pub timeout: Duration,
    pub secrets: SecretBox,
}

#[derive(Clone)]
pub struct WebhookWorker {
    wake: Arc<Notify>,
}

impl WebhookWorker {
    /// Tells the worker deliveries are waiting (after the transaction that queued them).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

pub fn spawn_worker(pool: Pool, settings: Settings) -> WebhookWorker {
    let wake = Arc::new(Notify::new());
    let handle = WebhookWorker { wake: wake.clone() };
    // Names this process's leases.
    let me = format!("worker-{}", uuid::Uuid::new_v4().simple());
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&pool, &settings, &me).await {
                tracing::warn!(error = format!("{e:#}"), "webhook worker pass failed");
            }
            let nap = next_nap(&pool).await.unwrap_or(POLL);
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    });
    handle
}

/// How long until the next pending delivery is due, at most `POLL`.
async fn next_nap(pool: &Pool) -> anyhow::Result<Duration> {
    let p = pool.clone();
    let next = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        Ok(db::webhooks::next_due(&mut *p.get()?)?)
    })
    .await??;
    let Some(next) = next else { return Ok(POLL) };
    let wait = (next - db::now()).to_std().unwrap_or(Duration::ZERO);
    Ok(wait.clamp(Duration::from_millis(5), POLL))
}

/// A claimed delivery with what sending it needs.
struct Job {
    delivery: Delivery,
    endpoint: Option<Endpoint>,
}

/// What became of one claimed delivery.
enum Done {
    Attempted {
        attempt: Attempt,
        status: DeliveryStatus,
        next: chrono::NaiveDateTime,
        disable: bool,
    },
    Abandoned {
        id: String,
        reason: &'static str,
    },
}

/// Sends every due delivery, a batch at a time, until none is left.
pub async fn run_once(pool: &Pool, settings: &Settings, me: &str) -> anyhow::Result<()> {
    loop {
        let (p, who) = (pool.clone(), me.to_string());
        let lease = settings.timeout + Duration::from_secs(60);
        let jobs = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Job>> {
            let mut conn = p.get()?;
            let now = db::now();
            let until = now + chrono::Duration::from_std(lease)?;
            Ok(db::write_tx(&mut conn, |c| {
                let claimed = db::webhooks::claim_due(c, &who, now, until, BATCH)?;
                let ids: Vec<String> = claimed.iter().map(|d| d.endpoint_id.clone()).collect();
                let endpoints: HashMap<String, Endpoint> = db::webhooks::endpoints_by_id(c, &ids)?
                    .into_iter()
                    .map(|e| (e.id.clone(), e))
                    .collect();
                Ok::<_, diesel::result::Error>(
                    claimed
                        .into_iter()
                        .map(|d| Job {
                            endpoint: endpoints.get(&d.endpoint_id).cloned(),
                            delivery: d,
                        })
                        .collect(),
                )
            })?)
        })
        .await??;
        if jobs.is_empty() {
            return Ok(());
        }
        let mut set = tokio::task::JoinSet::new();
        for job in jobs {
            let settings = settings.clone();
            set.spawn(async move { deliver(job, &settings).await });
        }
        let mut results = Vec::new();
        while let Some(r) = set.join_next().await {
            results.push(r?);
        }
        let (p, who) = (pool.clone(), me.to_string());
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = p.get()?;
            db::write_tx(&mut conn, |c| {
                for r in &results {
                    match r {
                        Done::Attempted {
                            attempt,
                            status,
                            next,
                            disable,
                        } => {
                            let recorded = db::webhooks::record_attempt(
                                c,
                                &who,
                                &Outcome {
                                    attempt,
                                    status: *status,
                                    next_attempt_at: *next,
                                },
                            )?;
                            if recorded && *disable {
                                let endpoint = db::webhooks::endpoint_of(c, &attempt.delivery_id)?;
                                if let Some(e) = endpoint {
                                    tracing::warn!(endpoint = %e, "webhook endpoint answered 410 Gone: disabled");
                                    db::webhooks::disable_endpoint(
                                        c,
                                        &e,
                                        "The receiver answered 410 Gone.",
                                    )?;
                                }
                            }
                        }
                        Done::Abandoned { id, reason } => {
                            db::webhooks::abandon(c, &who, id, reason)?;
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

/// One attempt at one delivery.
async fn deliver(job: Job, settings: &Settings) -> Done {
    let d = job.delivery;
    let Some(endpoint) = job.endpoint.filter(|e| e.status == EndpointStatus::Active) else {
        return Done::Abandoned {
            id: d.id,
            reason: "endpoint disabled or deleted",
        };
    };
    let number = d.attempts + 1;
    let attempted_at = db::now();
    let started = Instant::now();
    let sent = tokio::time::timeout(settings.timeout, send(&d, &endpoint, settings)).await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (code, error) = match sent {
        Ok(Ok(code)) => (Some(code), None),
        Ok(Err(e)) => (None, Some(e)),
        Err(_) => (
            None,
            Some(format!(
                "no response within {} s",
                settings.timeout.as_secs_f64()
            )),
        ),
    };
    let delivered = code.is_some_and(|c| (200..300).contains(&c));
    let gone = code == Some(410);
    let error = error.or_else(|| (!delivered).then(|| format!("HTTP {}", code.unwrap_or(0))));
    let retry = (!delivered && !gone)
        .then(|| retry_after(number, settings.backoff_scale))
        .flatten();
    let status = if delivered {
        DeliveryStatus::Delivered
    } else if retry.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    let next = attempted_at
        + retry
            .and_then(|r| chrono::Duration::from_std(r).ok())
            .unwrap_or_default();
    match (&code, &error) {
        (Some(c), _) if delivered => {
            tracing::info!(webhook = %d.webhook_id, attempt = number, status = c, "webhook delivered")
        }
        _ => {
            tracing::warn!(webhook = %d.webhook_id, attempt = number, status = ?code, error = ?error, "webhook not delivered")
        }
    }
    Done::Attempted {
        attempt: Attempt {
            id: db::new_id(),
            delivery_id: d.id,
            attempt: number,
            attempted_at,
            status_code: code.map(i32::from),
            duration_ms,
            error: if delivered { None } else { error },
        },
        status,
        next,
        disable: gone,
    }
}

/// Signs and POSTs the stored payload; the status code the receiver answered.
async fn send(d: &Delivery, e: &Endpoint, settings: &Settings) -> Result<u16, String> {
    let url = check_url(&e.url, settings.allow_private)?;
    let keys = signing_keys(&settings.secrets, e, db::now()).map_err(|err| err.to_string())?;
    let addrs = client::resolve_checked(&url, settings.allow_private).await?;
    let timestamp = chrono::Utc::now().timestamp();
    let body = d.payload.as_bytes();
    let headers = [
        ("webhook-id", d.webhook_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            signature_header(&keys, &d.webhook_id, timestamp, body),
        ),
    ];
    client::post(&url, &addrs, &headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        assert_eq!(retry_after(1, 1.0), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(2, 1.0), Some(Duration::from_secs(300)));
        assert_eq!(retry_after(7, 1.0), Some(Duration::from_secs(36_000)));
        assert_eq!(retry_after(8, 1.0), None);
        assert_eq!(retry_after(0, 1.0), None);
        assert_eq!(retry_after(2, 0.01), Some(Duration::from_secs(3)));
    }
}
