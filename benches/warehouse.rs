//! Warehouse scans and seller webhooks through the real server (`waybill serve`, release, as a
//! subprocess on loopback). 2,000 booked parcels are scanned in by 16 clients, each heavier
//! than declared, so every scan moves money, records a verified event and queues two webhooks
//! (`shipment.status_changed`, `shipment.weight_adjusted`) to a local receiver: warehouse scans
//! per second with p50/p99, then webhook deliveries per second from the first scan until the
//! receiver has every one (each `webhook-id` counted once).
//!
//! `cargo bench --bench warehouse` (PostgreSQL at WAYBILL_BENCH_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; `off` skips it).

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{ScratchPg, Server, percentile, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PARCELS: usize = 2_000;
const CLIENTS: usize = 16;

/// `waybill` that may deliver webhooks to the receiver on loopback.
fn waybill(dir: &std::path::Path, url: &str) -> std::process::Command {
    let mut c = support::waybill(dir, url);
    c.env("WAYBILL_WEBHOOK_ALLOW_PRIVATE", "on");
    c
}

fn shipment(n: usize) -> Value {
    json!({
        "channel": "CNPOST-RAM", "reference": format!("W-{n}"),
        "recipient": {"name": "Anna Muller", "street1": "Friedrichstrasse 12", "city": "Berlin",
                      "postal_code": "10117", "country": "DE", "phone": "+49 30 1234567"},
        "parcel": {"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50},
        "customs": {"contents_type": "merchandise", "items": [{"description": "LED desk lamp",
            "quantity": 1, "unit_value": "24.90", "currency": "USD", "weight_g": 400,
            "hs_code": "940520", "origin_country": "CN"}]}
    })
}

/// A plain HTTP/1.1 receiver (keep-alive) that answers 204 and records each `webhook-id`.
async fn receiver(
    ids: Arc<Mutex<HashSet<String>>>,
    total: Arc<Mutex<usize>>,
) -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (ids, total) = (ids.clone(), total.clone());
            tokio::spawn(async move {
                let mut buf: Vec<u8> = Vec::new();
                let mut chunk = [0u8; 16 * 1024];
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                    let field = |name: &str| {
                        head.lines()
                            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                    };
                    let len: usize = field("content-length:")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    if let Some(id) = field("webhook-id:") {
                        if let Ok(mut all) = ids.lock() {
                            all.insert(id);
                        }
                        if let Ok(mut t) = total.lock() {
                            *t += 1;
                        }
                    }
                    buf.drain(..head_end + len);
                    if sock
                        .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

async fn bench(backend: &str, url: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cli = |args: &[&str]| {
        let mut c = waybill(dir.path(), url);
        c.args(args);
        run(c)
    };
    let key = support::demo_seller(dir.path(), url)?;
    let machine = cli(&["apikey", "create", "--email", "warehouse@demo.waybill.test"])?
        .trim()
        .to_string();
    let client = support::client()?;
    let server = Server::start(waybill(dir.path(), url), &client).await?;
    let r = client
        .post(format!("{}/api/v1/addresses", server.base))
        .bearer_auth(&key)
        .json(
            &json!({"name": "Li Wei", "street1": "18 Keyuan Rd", "city": "Shenzhen",
            "postal_code": "518057", "country": "CN", "phone": "13800138000"}),
        )
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "address: {}", r.status());
    let mut numbers = Vec::new();
    for n in 0..PARCELS {
        let r = client
            .post(format!("{}/api/v1/shipments", server.base))
            .bearer_auth(&key)
            .json(&shipment(n))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "shipment: {}", r.status());
        numbers.push(
            r.json::<Value>().await?["tracking_number"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    // The seller's endpoint, registered after the bookings so only scans send to it.
    let ids = Arc::new(Mutex::new(HashSet::new()));
    let total = Arc::new(Mutex::new(0usize));
    let hook_port = receiver(ids.clone(), total.clone()).await?;
    let r = client
        .post(format!("{}/api/v1/webhooks", server.base))
        .bearer_auth(&key)
        .json(&json!({"url": format!("http://127.0.0.1:{hook_port}/hook"),
                      "events": ["shipment.status_changed", "shipment.weight_adjusted"]}))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "webhook: {}", r.status());

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, chunk) in numbers.chunks(PARCELS / CLIENTS).enumerate() {
        let (client, base, machine) = (client.clone(), server.base.clone(), machine.clone());
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for (i, number) in chunk.into_iter().enumerate() {
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/warehouse/scans"))
                    .bearer_auth(&machine)
                    .json(&json!({"scan_id": format!("bench-{c}-{i}"), "tracking_number": number,
                                  "weight_g": 900, "length_mm": 200, "width_mm": 150, "height_mm": 50}))
                    .send()
                    .await?;
                let status = r.status().as_u16();
                let body: Value = r.json().await?;
                anyhow::ensure!(
                    status == 200 && body["result"] == "adjusted",
                    "scan: {status} {body}"
                );
                out.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let scan_secs = started.elapsed().as_secs_f64();
    lat.sort();
    println!(
        "{backend:<8} warehouse scans (each adjusts the wallet, logs an event, queues 2 webhooks), {CLIENTS} clients: {:.0} scans/s  p50={:.2} ms  p99={:.2} ms  (n={})",
        lat.len() as f64 / scan_secs,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.len()
    );
    let expected = PARCELS * 2;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let got = ids.lock().map(|i| i.len()).unwrap_or(0);
        if got >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let (distinct, all) = (
        ids.lock().map(|i| i.len()).unwrap_or(0),
        total.lock().map(|t| *t).unwrap_or(0),
    );
    anyhow::ensure!(
        distinct == expected,
        "{distinct} of {expected} webhooks arrived"
    );
    println!(
        "{backend:<8} webhook deliveries to a local receiver: {:.0} deliveries/s ({distinct} distinct webhook-ids, {all} requests, {:.2} s from the first scan to the last delivery)",
        distinct as f64 / secs,
        secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = dir.path().join("bench.db").display().to_string();
    bench("sqlite", &sqlite).await?;
    if let Some(pg) = ScratchPg::create("waybill_bench")? {
        bench("postgres", &pg.url).await?;
    }
    Ok(())
}
