//! Verified tracking through the real server, load generator included: `waybill serve`
//! (release) as a subprocess on loopback. Measures carrier events ingested per second in
//! signed batches of 500 (one client, then 4), and `GET /api/v1/tracking/{number}` and
//! `/track/{number}` requests per second with p50/p99 at 16 connections, on SQLite and
//! PostgreSQL.
//!
//! `cargo bench --bench tracking` (PostgreSQL at WAYBILL_BENCH_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; `off` skips it).

mod support;

use std::time::Instant;

use serde_json::{Value, json};
use support::{ScratchPg, Server, percentile, run};

const SHIPMENTS: usize = 500;
const BATCH: usize = 500;
const BATCHES: usize = 20;
const GETS: usize = 16_000;

/// `waybill` with the public rate limit off (the load comes from one address).
fn waybill(dir: &std::path::Path, url: &str) -> std::process::Command {
    let mut c = support::waybill(dir, url);
    c.env("WAYBILL_PUBLIC_RATE_LIMIT", "off");
    c
}

const UPU: [&str; 10] = [
    "EMA", "EMB", "EXA", "EXC", "EMC", "EMD", "EDB", "EMF", "EDD", "EMG",
];

/// Batch `b` of signed events: event k of each shipment in turn.
fn batch(b: usize, numbers: &[String]) -> String {
    let events: Vec<Value> = (0..BATCH)
        .map(|i| {
            let n = b * BATCH + i;
            let number = &numbers[n % numbers.len()];
            let k = n / numbers.len();
            json!({"id": format!("bench-{n}"), "tracking_number": number,
                   "code": UPU[k % UPU.len()],
                   "occurred_at": format!("2026-11-{:02}T{:02}:00:00Z", 1 + k % 28, k % 24),
                   "location": "Shenzhen, CN", "description": "Bench scan"})
        })
        .collect();
    json!({ "events": events }).to_string()
}

fn sign(secret: &str, ts: &str, body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{ts}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn bench(backend: &str, url: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cmd = |args: &[&str]| {
        let mut c = waybill(dir.path(), url);
        c.args(args);
        c
    };
    let key = support::demo_seller(dir.path(), url)?;
    let secret = run(cmd(&["channel", "secret", "CNPOST-RAM"]))?
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
    for n in 0..SHIPMENTS {
        let r = client
            .post(format!("{}/api/v1/shipments", server.base))
            .bearer_auth(&key)
            .json(&json!({
                "channel": "CNPOST-RAM", "reference": format!("T-{n}"),
                "recipient": {"name": "Anna Muller", "street1": "Friedrichstrasse 12", "city": "Berlin",
                              "postal_code": "10117", "country": "DE", "phone": "+49 30 1234567"},
                "parcel": {"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50},
                "customs": {"contents_type": "merchandise", "items": [{"description": "LED desk lamp",
                    "quantity": 1, "unit_value": "24.90", "currency": "USD", "weight_g": 400,
                    "hs_code": "940520", "origin_country": "CN"}]}}))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "booking: {}", r.status());
        let v: Value = r.json().await?;
        numbers.push(
            v["tracking_number"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let bodies: Vec<String> = (0..BATCHES).map(|b| batch(b, &numbers)).collect();
    for clients in [1usize, 4] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, base, secret) = (client.clone(), server.base.clone(), secret.clone());
            let mine: Vec<String> = bodies
                .iter()
                .skip(c)
                .step_by(clients)
                .map(|b| {
                    // A second round replays the same ids: make them new ones.
                    b.replace("\"bench-", &format!("\"bench{clients}-"))
                })
                .collect();
            tasks.push(tokio::spawn(async move {
                let mut accepted = 0usize;
                for body in mine {
                    let ts = chrono::Utc::now().timestamp().to_string();
                    let r = client
                        .post(format!("{base}/api/v1/carrier-events"))
                        .header("Content-Type", "application/json")
                        .header("X-Waybill-Channel", "CNPOST-RAM")
                        .header("X-Waybill-Timestamp", &ts)
                        .header("X-Waybill-Signature", sign(&secret, &ts, &body))
                        .body(body)
                        .send()
                        .await?;
                    anyhow::ensure!(r.status() == 200, "carrier events: {}", r.status());
                    let v: Value = r.json().await?;
                    accepted += v["results"]
                        .as_array()
                        .map(|a| a.iter().filter(|e| e["result"] == "accepted").count())
                        .unwrap_or(0);
                }
                Ok::<_, anyhow::Error>(accepted)
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            accepted += t.await??;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{backend:<8} carrier events, batches of {BATCH}, {clients} client{}: {:>7.0} events/s ({accepted} accepted in {secs:.2} s)",
            if clients == 1 { " " } else { "s" },
            accepted as f64 / secs
        );
    }
    // A checkpoint, so every event carries its inclusion proof.
    let cp = run(cmd(&["checkpoint"]))?;
    anyhow::ensure!(cp.contains("tracking-log"), "checkpoint: {cp}");
    for path in ["/api/v1/tracking/", "/track/"] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..16 {
            let (client, base, numbers) = (client.clone(), server.base.clone(), numbers.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(GETS / 16);
                for i in 0..GETS / 16 {
                    let n = &numbers[(c * 31 + i) % numbers.len()];
                    let t = Instant::now();
                    let r = client.get(format!("{base}{path}{n}")).send().await?;
                    anyhow::ensure!(r.status() == 200, "GET {path}{n}: {}", r.status());
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
        let secs = started.elapsed().as_secs_f64();
        all.sort();
        println!(
            "{backend:<8} GET {path:<18} 16 connections {:>6.0} req/s  p50={:.2} ms  p99={:.2} ms  (n={}, 40 events each, proofs included)",
            all.len() as f64 / secs,
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.len()
        );
    }
    drop(server);
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = dir.path().join("bench.db").display().to_string();
    bench("sqlite", &sqlite).await?;
    if let Some(pg) = ScratchPg::create("waybill_bench")? {
        bench("postgres", &pg.url).await?;
    }
    Ok(())
}
