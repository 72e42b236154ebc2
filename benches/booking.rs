//! Booking through the real API, load generator included, on this machine:
//! `waybill serve` (release) as a subprocess on loopback, driven by N concurrent clients.
//! Measures quote latency, bookings/s (quote + book + charge) at 1 and 16 clients on SQLite
//! and PostgreSQL, the confirmation mails still queued as each run ends (sent over SMTP to a
//! relay on loopback), SQLite's write-ahead log at the end and after 10 s idle, and a
//! 1,000-row CSV import.
//!
//! `cargo bench --bench booking` (PostgreSQL at WAYBILL_BENCH_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; `off` skips it).

mod support;

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use support::{ScratchPg, Server, percentile};

const BOOKINGS: usize = 3_200;

/// `waybill` sending mail over SMTP to the discarding relay, when one runs.
fn waybill(dir: &std::path::Path, url: &str) -> std::process::Command {
    let mut c = support::waybill(dir, url);
    if let Some(port) = SMTP_PORT.get() {
        c.env("WAYBILL_MAIL_URL", format!("smtp://127.0.0.1:{port}"));
    }
    c
}

static SMTP_PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

/// A mail relay that accepts everything and keeps nothing: production sends booking
/// confirmations over SMTP, so the benchmark does too (the file transport's one-file-per-mail
/// costs more than the booking itself).
async fn discard_smtp() -> anyhow::Result<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
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
                            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
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

/// Confirmation mails not yet sent, read on a connection of this process.
fn queued_mail(url: &str) -> anyhow::Result<i64> {
    use diesel::prelude::*;
    use waybill::db::schema::outbox;
    let pending = outbox::table.filter(outbox::status.eq("pending")).count();
    Ok(
        match waybill::db::DbUrl::parse(url).map_err(anyhow::Error::msg)? {
            waybill::db::DbUrl::Sqlite(path) => {
                let mut c = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                c.batch_execute("PRAGMA busy_timeout = 10000")?;
                pending.get_result(&mut c)?
            }
            waybill::db::DbUrl::Postgres(url) => {
                pending.get_result(&mut diesel::PgConnection::establish(&url)?)?
            }
        },
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn booking(n: usize) -> Value {
    json!({
        "channel": "DHL-EXPRESS", "reference": format!("B-{n}"),
        "recipient": {"name": "Anna Muller", "street1": "Friedrichstrasse 12", "city": "Berlin",
                      "postal_code": "10117", "country": "DE", "phone": "+49 30 1234567"},
        "parcel": {"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50},
        "customs": {"contents_type": "merchandise", "items": [{"description": "LED desk lamp",
            "quantity": 1, "unit_value": "24.90", "currency": "USD", "weight_g": 400,
            "hs_code": "940520", "origin_country": "CN"}]}
    })
}

fn quote_body() -> Value {
    json!({"recipient": {"country": "DE"},
           "parcel": {"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50}})
}

async fn bench(backend: &str, url: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let key = support::demo_seller(dir.path(), url)?;
    let client = support::client()?;
    let server = Server::start(waybill(dir.path(), url), &client).await?;
    let post = |path: &str, body: Value, idem: Option<String>| {
        let mut r = client
            .post(format!("{}/api/v1{path}", server.base))
            .bearer_auth(&key)
            .json(&body);
        if let Some(k) = idem {
            r = r.header("Idempotency-Key", k);
        }
        r.send()
    };
    let r = post(
        "/addresses",
        json!({"name": "Li Wei", "street1": "18 Keyuan Rd", "city": "Shenzhen",
        "postal_code": "518057", "country": "CN", "phone": "13800138000"}),
        None,
    )
    .await?;
    anyhow::ensure!(r.status() == 201, "address: {}", r.status());

    // Quote latency, one client.
    let mut lat = Vec::new();
    for _ in 0..2_000 {
        let t = Instant::now();
        let r = post("/quotes", quote_body(), None).await?;
        anyhow::ensure!(r.status() == 200);
        r.bytes().await?;
        lat.push(t.elapsed());
    }
    lat.sort();
    println!(
        "{backend:<8} quote          1 client   p50={:.2} ms  p99={:.2} ms",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    let mut next = 0usize;
    for clients in [1usize, 16] {
        for with_quote in [false, true] {
            let per = BOOKINGS / clients / if clients == 1 { 2 } else { 1 };
            let started = Instant::now();
            let mut tasks = Vec::new();
            for c in 0..clients {
                let (client, base, key) = (client.clone(), server.base.clone(), key.clone());
                let first = next + c * per;
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(per);
                    for n in first..first + per {
                        let t = Instant::now();
                        if with_quote {
                            let q = client
                                .post(format!("{base}/api/v1/quotes"))
                                .bearer_auth(&key)
                                .json(&quote_body())
                                .send()
                                .await?;
                            q.bytes().await?;
                        }
                        let r = client
                            .post(format!("{base}/api/v1/shipments"))
                            .bearer_auth(&key)
                            .header("Idempotency-Key", format!("bench-{n}"))
                            .json(&booking(n))
                            .send()
                            .await?;
                        anyhow::ensure!(r.status() == 201, "booking {n}: {}", r.status());
                        r.bytes().await?;
                        lat.push(t.elapsed());
                    }
                    Ok::<_, anyhow::Error>(lat)
                }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await??);
            }
            next += clients * per;
            let secs = started.elapsed().as_secs_f64();
            all.sort();
            println!(
                "{backend:<8} {:<14} {clients:>2} client{} {:>6.0} bookings/s  p50={:.2} ms  p99={:.2} ms  (n={}; mail queued at the end: {})",
                if with_quote { "quote+book" } else { "book" },
                if clients == 1 { " " } else { "s" },
                all.len() as f64 / secs,
                percentile(&all, 0.5),
                percentile(&all, 0.99),
                all.len(),
                queued_mail(url)?
            );
        }
    }
    // Booking has stopped: how long the queued confirmations take to go (followed for a
    // minute at most), and the log now and 10 s later (idle by then once the mail is out).
    let stopped = Instant::now();
    let wal = |path: &str| std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
    let wal_at_end = wal(url);
    let queued = queued_mail(url)?;
    let (mut left, mut drained, mut wal_later) = (queued, Duration::ZERO, None);
    while (left > 0 || wal_later.is_none()) && stopped.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if left > 0 {
            left = queued_mail(url)?;
            drained = stopped.elapsed();
        }
        if wal_later.is_none() && stopped.elapsed() >= Duration::from_secs(10) {
            wal_later = Some(wal(url));
        }
    }
    println!(
        "{backend:<8} mail           {next} confirmations over SMTP: {queued} queued when booking stopped; {} sent in the next {:.2} s ({:.0}/s), {left} still queued",
        queued - left,
        drained.as_secs_f64(),
        (queued - left) as f64 / drained.as_secs_f64().max(0.001)
    );
    if !url.starts_with("postgres") {
        println!(
            "{backend:<8} write-ahead log {} when booking stopped, {} 10 s later (database {})",
            mib(wal_at_end),
            mib(wal_later.unwrap_or_default()),
            mib(std::fs::metadata(url).map_or(0, |m| m.len()))
        );
    }
    drop(server);

    // A 1,000-row CSV import: check and booking run, as the import page does them.
    let pool = waybill::db::connect(
        &waybill::db::DbUrl::parse(url).map_err(anyhow::Error::msg)?,
        4,
    )?;
    let mut conn = pool.get()?;
    let seller = waybill::db::users::find_by_email(&mut conn, "seller@demo.waybill.test")?
        .ok_or_else(|| anyhow::anyhow!("no seller"))?;
    let mut csv = String::from(
        waybill::services::import::sample_csv()
            .lines()
            .next()
            .unwrap_or_default(),
    );
    for n in 0..1_000 {
        csv.push_str(&format!("\nIMP-{n},CNPOST-RAM,Anna Muller,,Friedrichstrasse 12,,Berlin,,10117,DE,+49 30 1234567,,455,200,150,50,merchandise,LED desk lamp,1,24.90,USD,400,940520,CN"));
    }
    let t = Instant::now();
    let mut rows = waybill::services::import::parse(csv.as_bytes()).map_err(anyhow::Error::msg)?;
    waybill::services::import::check(&mut conn, &seller.id, &mut rows)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let checked = t.elapsed();
    let id = waybill::db::new_id();
    let now = waybill::db::now();
    waybill::db::imports::insert(
        &mut conn,
        &waybill::db::imports::Import {
            id: id.clone(),
            seller_id: seller.id.to_string(),
            filename: "bench.csv".into(),
            csv: csv.clone(),
            status: waybill::domain::import::ImportStatus::Running,
            total_rows: 1_000,
            valid_rows: 1_000,
            booked: 0,
            failed: 0,
            results: None,
            created_at: now,
            updated_at: now,
        },
    )?;
    drop(conn);
    let currency = waybill::domain::Currency::parse("CNY").map_err(anyhow::Error::msg)?;
    let t = Instant::now();
    waybill::services::import::run(
        &pool,
        &id,
        &seller,
        &waybill::services::booking::Settings {
            currency,
            base_url: "http://x",
            quote_key: b"bench quote key",
            confirm_by_mail: false,
        },
    )?;
    let ran = t.elapsed();
    let done = waybill::db::imports::find(&mut *pool.get()?, &seller.id, &id)?
        .ok_or_else(|| anyhow::anyhow!("import gone"))?;
    println!(
        "{backend:<8} CSV import     1,000 rows: preview check {:.0} ms, booking run {:.2} s ({} booked, {} failed)",
        checked.as_secs_f64() * 1000.0,
        ran.as_secs_f64(),
        done.booked,
        done.failed
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if std::env::var("WAYBILL_BENCH_MAIL").as_deref() != Ok("file") {
        let _ = SMTP_PORT.set(discard_smtp().await?);
    }
    let dir = tempfile::tempdir()?;
    let sqlite = dir.path().join("bench.db").display().to_string();
    bench("sqlite", &sqlite).await?;
    if let Some(pg) = ScratchPg::create("waybill_bench")? {
        bench("postgres", &pg.url).await?;
    }
    Ok(())
}
