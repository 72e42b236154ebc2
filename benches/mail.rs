//! Mail throughput over SMTP: the outbox worker sending queued mail to a relay on loopback,
//! as production sends booking confirmations (not the file transport).
//!
//! `cargo bench --bench mail`: queues WAYBILL_BENCH_MAILS mails (default 5,000) in a fresh
//! database, starts the real worker (`mail::spawn_worker`, configured as `serve` configures
//! it) against an SMTP relay in this process that accepts every message at once, and times
//! until every row is marked sent. Runs with WAYBILL_MAIL_CONCURRENCY 1 and 8, on SQLite and
//! on PostgreSQL at WAYBILL_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres;
//! `off` skips it).

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use waybill::db::{self, schema::outbox};

/// A relay that accepts every message at once and keeps none; returns its port.
async fn relay() -> anyhow::Result<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 relay ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        b"250 ok\r\n"
                    } else {
                        match line.get(..4).unwrap_or("").to_ascii_uppercase().as_str() {
                            "EHLO" => b"250-relay\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go\r\n"
                            }
                            "QUIT" => break,
                            _ => b"250 ok\r\n",
                        }
                    };
                    if w.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(port)
}

fn sent(pool: &db::Pool) -> anyhow::Result<i64> {
    Ok(outbox::table
        .filter(outbox::status.eq("sent"))
        .count()
        .get_result(&mut *pool.get()?)?)
}

/// Queues `n` mails, starts the worker with `concurrency`, and returns mails per second.
async fn run(backend: &str, url: &str, n: usize, concurrency: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let port = relay().await?;
    let env: HashMap<String, String> = [
        ("DATABASE_URL", url.to_string()),
        ("WAYBILL_DATA_DIR", dir.path().display().to_string()),
        ("WAYBILL_MAIL_URL", format!("smtp://127.0.0.1:{port}")),
        ("WAYBILL_MAIL_CONCURRENCY", concurrency.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = waybill::config::from_sources(None, &env)?;
    let pool = db::connect(&config.database_url, 16)?;
    db::migrate(&mut *pool.get()?)?;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        db::write_tx(&mut *pool.get()?, |c| {
            for i in chunk {
                let mail = waybill::mail::PasswordReset {
                    name: "Li Wei",
                    link: &format!("https://waybill.example/password/reset?token={i:064}"),
                    minutes: 30,
                };
                waybill::mail::enqueue(c, &format!("seller{i}@example.com"), &mail)
                    .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    let mailer = waybill::mail::Mailer::from_config(&config)?;
    let started = Instant::now();
    let worker = waybill::mail::spawn_worker(
        pool.clone(),
        mailer,
        config.mail_poll,
        config.mail_retry_base,
    );
    worker.wake();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let p = pool.clone();
        let done = tokio::task::spawn_blocking(move || sent(&p)).await??;
        if done as usize >= n {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {done} of {n} mails sent in ten minutes"
        );
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{backend:<8} concurrency {concurrency:>2}  {n} mails in {secs:6.2} s  {:>6.0} mails/s  ({:.2} ms a mail)",
        n as f64 / secs,
        secs * 1000.0 / n as f64
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("WAYBILL_BENCH_MAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    for concurrency in [1, 8] {
        // A runtime per run: dropping it stops that run's worker.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let dir = tempfile::tempdir()?;
        let sqlite = dir.path().join("mail.db").display().to_string();
        rt.block_on(run("sqlite", &sqlite, n, concurrency))?;
        if let Some(pg) = support::ScratchPg::create("waybill_mailbench")? {
            let result = rt.block_on(run("postgres", &pg.url, n, concurrency));
            // The worker stops with its runtime, before its database is dropped.
            drop(rt);
            drop(pg);
            result?;
        }
    }
    Ok(())
}
