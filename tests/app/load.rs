//! Under sustained load: SQLite's write-ahead log stays bounded beside readers and shrinks
//! when idle; mail goes out over several SMTP connections at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::fixtures::Booking;
use crate::helpers::*;

fn wal_size(app: &TestApp) -> u64 {
    std::fs::metadata(format!("{}-wal", app.db.url)).map_or(0, |m| m.len())
}

#[actix_web::test]
async fn the_sqlite_log_stays_bounded_beside_readers_and_shrinks_when_idle() {
    if backend_is_postgres() {
        return; // PostgreSQL manages its own log.
    }
    // A 1 MiB limit, so that a short run shows it: without restarts the log reached 157 MiB.
    let app = spawn_app_with(Options {
        env: vec![("WAYBILL_SQLITE_WAL_LIMIT_MB", "1")],
        ..Default::default()
    })
    .await;
    let seller = app.api_seller("steady@example.com", 100_000_000).await;
    let done = Arc::new(AtomicBool::new(false));
    let largest = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, largest, path) = (done.clone(), largest.clone(), app.db.url.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let size = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
                largest.fetch_max(size, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    // Readers that are always in the middle of a query, as on a busy server.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (done, base, key) = (done.clone(), app.address.clone(), seller.key().to_string());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                while !done.load(Ordering::Relaxed) {
                    let r = http
                        .get(format!("{base}/api/v1/shipments"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (base, key) = (app.address.clone(), seller.key().to_string());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for _ in 0..250 {
                    let r = http
                        .post(format!("{base}/api/v1/shipments"))
                        .bearer_auth(&key)
                        .json(&Booking::on("CNPOST-RAM").json())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 201);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    sampler.await.unwrap();
    let largest = largest.load(Ordering::Relaxed);
    println!(
        "WAL: largest {largest} bytes during 2,000 bookings, {} at the end",
        wal_size(&app)
    );
    assert!(
        largest < 8 << 20,
        "the log reached {largest} bytes under load"
    );
    // Idle (once the confirmation mails are out): the log is checkpointed and truncated.
    eventually(20, "the idle log to shrink", || {
        (wal_size(&app) == 0).then_some(())
    })
    .await;
}

/// An SMTP server on loopback that holds its answer to each message for `delay`, counting
/// connections and the messages it holds at once.
struct SlowSink {
    port: u16,
    received: Arc<std::sync::Mutex<Vec<String>>>,
    connections: Arc<AtomicU64>,
    most_at_once: Arc<AtomicU64>,
}

impl SlowSink {
    async fn start(delay: Duration) -> SlowSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SlowSink {
            port: listener.local_addr().unwrap().port(),
            received: Default::default(),
            connections: Default::default(),
            most_at_once: Default::default(),
        };
        let (received, connections, most) = (
            sink.received.clone(),
            sink.connections.clone(),
            sink.most_at_once.clone(),
        );
        let holding = Arc::new(AtomicU64::new(0));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let (received, most, holding) = (received.clone(), most.clone(), holding.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 slow.test ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line != "." {
                                body.push_str(&line);
                                body.push('\n');
                                continue;
                            }
                            let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            holding.fetch_sub(1, Ordering::SeqCst);
                            received.lock().unwrap().push(data.take().unwrap());
                            let _ = write.write_all(b"250 2.0.0 queued\r\n").await;
                            continue;
                        }
                        let reply: &[u8] = match line.get(..4).map(str::to_ascii_uppercase) {
                            Some(v) if v == "EHLO" => b"250-slow.test\r\n250 8BITMIME\r\n",
                            Some(v) if v == "DATA" => {
                                data = Some(String::new());
                                b"354 go ahead\r\n"
                            }
                            Some(v) if v == "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        sink
    }

    fn recipients(&self) -> Vec<String> {
        let mut to: Vec<String> = self
            .received
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("To: ")))
            .map(str::to_string)
            .collect();
        to.sort();
        to
    }
}

/// Queues `n` mails in one transaction (so the worker finds them all at once) and wakes the
/// worker; returns their recipients, sorted.
fn queue_mails(app: &TestApp, n: usize) -> Vec<String> {
    let mut to: Vec<String> = (0..n).map(|i| format!("r{i:03}@example.com")).collect();
    waybill::db::write_tx(&mut app.conn(), |c| {
        for addr in &to {
            let mail = waybill::mail::PasswordReset {
                name: "Reader",
                link: "http://x/password/reset?token=t",
                minutes: 30,
            };
            waybill::mail::enqueue(c, addr, &mail)
                .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    app.state.mail.wake();
    to.sort();
    to
}

#[actix_web::test]
async fn mail_goes_out_over_several_connections_at_once() {
    let sink = SlowSink::start(Duration::from_millis(300)).await;
    let app = spawn_app_with(Options {
        mail_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
        env: vec![("WAYBILL_MAIL_CONCURRENCY", "4")],
        ..Default::default()
    })
    .await;
    let sent = queue_mails(&app, 12);
    let outbox = eventually(20, "every mail to be marked sent", || {
        let all = app.outbox();
        all.iter()
            .all(|m| m.status.as_str() == "sent")
            .then_some(all)
    })
    .await;
    assert_eq!(sink.recipients(), sent, "each mail arrives once");
    assert!(outbox.iter().all(|m| m.attempts == 1));
    let most = sink.most_at_once.load(Ordering::SeqCst);
    assert!(most > 1, "the relay only ever had one mail in hand");
    assert!(most <= 4, "{most} mails at once, above the configured 4");
    // Connections are kept and reused, one per mail in flight.
    assert!(sink.connections.load(Ordering::SeqCst) <= 4);
}

#[actix_web::test]
async fn two_servers_on_one_database_send_each_mail_once() {
    let sink = SlowSink::start(Duration::from_millis(20)).await;
    let first = spawn_app_with(Options {
        mail_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
        ..Default::default()
    })
    .await;
    let url: &'static str = first.db.url.clone().leak();
    let second = spawn_app_with(Options {
        mail_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
        env: vec![("DATABASE_URL", url)],
        ..Default::default()
    })
    .await;
    let sent = queue_mails(&first, 60);
    second.state.mail.wake();
    let outbox = eventually(30, "every mail to be marked sent", || {
        let all = first.outbox();
        (all.len() == 60 && all.iter().all(|m| m.status.as_str() == "sent")).then_some(all)
    })
    .await;
    assert_eq!(sink.recipients(), sent, "each mail arrives once");
    assert!(outbox.iter().all(|m| m.attempts == 1));
    drop(second);
}
