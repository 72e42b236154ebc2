//! Pickups through the real server (`waybill serve`, release, as a subprocess on loopback):
//! bookings per second against one window under contention (and that the window is never
//! overbooked), then the courier queue page with 300 pickups in the area: requests per
//! second and p99.
//!
//! `cargo bench --bench pickups` (PostgreSQL at WAYBILL_BENCH_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; `off` skips it).

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{ScratchPg, Server, percentile, run_with_input as run, waybill};

const CAPACITY: usize = 300;
const REQUESTS: usize = 400;
const CLIENTS: usize = 16;

fn shipment(n: usize) -> Value {
    json!({
        "channel": "CNPOST-RAM", "reference": format!("P-{n}"),
        "recipient": {"name": "Anna Muller", "street1": "Friedrichstrasse 12", "city": "Berlin",
                      "postal_code": "10117", "country": "DE", "phone": "+49 30 1234567"},
        "parcel": {"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50},
        "customs": {"contents_type": "merchandise", "items": [{"description": "LED desk lamp",
            "quantity": 1, "unit_value": "24.90", "currency": "USD", "weight_g": 400,
            "hs_code": "940520", "origin_country": "CN"}]}
    })
}

fn tomorrow() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(1))
        .date_naive()
        .to_string()
}

async fn bench(backend: &str, url: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cli = |args: &[&str], stdin: &str| {
        let mut c = waybill(dir.path(), url);
        c.args(args);
        run(c, stdin)
    };
    let key = support::demo_seller(dir.path(), url)?;
    let cap = CAPACITY.to_string();
    cli(
        &[
            "area",
            "add",
            "--name",
            "Bench",
            "--postal-prefixes",
            "518057",
            "--capacity",
            &cap,
        ],
        "",
    )?;
    cli(
        &[
            "user",
            "add",
            "--email",
            "rider@bench.test",
            "--role",
            "courier",
        ],
        "bench-rider-pw\n",
    )?;
    cli(
        &[
            "courier",
            "assign",
            "--email",
            "rider@bench.test",
            "--area",
            "Bench",
        ],
        "",
    )?;
    let client = support::client()?;
    let server = Server::start(waybill(dir.path(), url), &client).await?;
    let r = client
        .post(format!("{}/api/v1/addresses", server.base))
        .bearer_auth(&key)
        .json(
            &json!({"name": "李伟 Li Wei", "street1": "科技园南路 18号", "city": "Shenzhen",
            "postal_code": "518057", "country": "CN", "phone": "13800138000"}),
        )
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "address: {}", r.status());
    let address = r.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut ids = Vec::new();
    for n in 0..REQUESTS {
        let r = client
            .post(format!("{}/api/v1/shipments", server.base))
            .bearer_auth(&key)
            .json(&shipment(n))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "shipment: {}", r.status());
        ids.push(
            r.json::<Value>().await?["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }

    // Every request wants the same window; each carries its own shipment.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in ids.chunks(REQUESTS / CLIENTS) {
        let (client, base, key, address) = (
            client.clone(),
            server.base.clone(),
            key.clone(),
            address.clone(),
        );
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for id in chunk {
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/pickups"))
                    .bearer_auth(&key)
                    .json(&json!({"address_id": address, "date": tomorrow(), "window": "09:00-12:00", "shipment_ids": [id]}))
                    .send()
                    .await?;
                let status = r.status().as_u16();
                r.bytes().await?;
                out.push((status, t.elapsed()));
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    let booked = all.iter().filter(|(s, _)| *s == 201).count();
    let full = all.iter().filter(|(s, _)| *s == 409).count();
    anyhow::ensure!(
        booked == CAPACITY && full == REQUESTS - CAPACITY,
        "booked {booked}, refused {full}"
    );
    let mut lat: Vec<Duration> = all.iter().map(|(_, d)| *d).collect();
    lat.sort();
    println!(
        "{backend:<8} pickup booking, one window, {CLIENTS} clients: {:.0} bookings/s ({:.0} requests/s; {booked} booked = capacity, {full} refused 409)  p50={:.2} ms  p99={:.2} ms",
        booked as f64 / secs,
        all.len() as f64 / secs,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    // The courier's queue page for tomorrow: 300 pickups in the area.
    let mut page_lat = Vec::new();
    let session = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = session
        .get(format!("{}/login", server.base))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf_token\" value=\"";
    let start = login.find(marker).map(|i| i + marker.len()).unwrap_or(0);
    let csrf = login.get(start..start + 64).unwrap_or_default().to_string();
    let r = session
        .post(format!("{}/login", server.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "rider@bench.test"),
            ("password", "bench-rider-pw"),
        ])
        .send()
        .await?;
    anyhow::ensure!(r.status() == 303, "courier login: {}", r.status());
    let page = format!("{}/courier?date={}", server.base, tomorrow());
    let html = session.get(&page).send().await?.text().await?;
    anyhow::ensure!(
        html.matches("class=\"card pickup-card\"").count() == CAPACITY,
        "queue size"
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (session, page) = (session.clone(), page.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                let t = Instant::now();
                let r = session.get(&page).send().await?;
                anyhow::ensure!(r.status() == 200);
                r.bytes().await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    for t in tasks {
        page_lat.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    page_lat.sort();
    println!(
        "{backend:<8} courier queue page, {CAPACITY} pickups, 8 clients: {:.0} requests/s  p50={:.2} ms  p99={:.2} ms  (n={})",
        page_lat.len() as f64 / secs,
        percentile(&page_lat, 0.5),
        percentile(&page_lat, 0.99),
        page_lat.len()
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
