//! Wallet postings per second and their latency, on SQLite and PostgreSQL, with 1 and 8
//! threads. Each posting is a full charge: idempotency key claimed, conditional balance
//! update, two entries, one write transaction.
//!
//! `cargo bench --bench ledger` (PostgreSQL at WAYBILL_BENCH_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; set it to `off` to skip).

mod support;

use std::time::{Duration, Instant};

use support::ScratchPg;
use waybill::db::{self, DbUrl, Pool};
use waybill::domain::{Currency, Money, Role};
use waybill::services::accounts::AccountInput;
use waybill::services::wallet::{Kind, Posting};

const PER_THREAD: usize = 2_000;

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    run("sqlite", &DbUrl::Sqlite(dir.path().join("bench.db")))?;
    if let Some(pg) = ScratchPg::create("waybill_bench")? {
        run("postgres", &DbUrl::Postgres(pg.url.clone()))?;
    }
    Ok(())
}

fn run(backend: &str, url: &DbUrl) -> anyhow::Result<()> {
    let pool = db::connect(url, 16)?;
    db::migrate(&mut *pool.get()?)?;
    for threads in [1usize, 8] {
        let seller = seller(&pool, &format!("bench-{threads}@example.com"))?;
        let cny = Currency::parse("CNY").map_err(anyhow::Error::msg)?;
        post(
            &pool,
            &seller,
            Kind::TopUp,
            Money::new(i64::MAX / 4, cny),
            &format!("fund-{threads}"),
        )?;
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (pool, seller) = (pool.clone(), seller.clone());
                std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                    let mut lat = Vec::with_capacity(PER_THREAD);
                    for i in 0..PER_THREAD {
                        let t0 = Instant::now();
                        post(
                            &pool,
                            &seller,
                            Kind::Charge,
                            Money::new(1_250, cny),
                            &format!("c-{threads}-{t}-{i}"),
                        )?;
                        lat.push(t0.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(
                h.join()
                    .map_err(|_| anyhow::anyhow!("bench thread panicked"))??,
            );
        }
        let secs = started.elapsed().as_secs_f64();
        all.sort();
        let pct = |p: f64| {
            all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0
        };
        println!(
            "{backend:<8} threads={threads}  postings={}  {:>7.0}/s  p50={:.2} ms  p99={:.2} ms",
            all.len(),
            all.len() as f64 / secs,
            pct(0.50),
            pct(0.99)
        );
    }
    Ok(())
}

fn seller(pool: &Pool, email: &str) -> anyhow::Result<String> {
    let input = AccountInput {
        email,
        role: Role::Seller,
        name: "Bench",
        store_name: Some("Bench"),
        phone: "13800138000",
        password: "bench-password-1",
        password_confirm: "bench-password-1",
    };
    let draft = input.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let user = waybill::services::accounts::create(&mut *pool.get()?, &draft)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(user.id.into_string())
}

fn post(pool: &Pool, seller: &str, kind: Kind, amount: Money, key: &str) -> anyhow::Result<()> {
    waybill::services::wallet::post(
        &mut *pool.get()?,
        &Posting {
            key,
            kind,
            seller_id: seller,
            amount,
            shipment_id: None,
            payment_intent_id: None,
            note: None,
            actor_id: None,
        },
    )
    .map(|_| ())
    .map_err(|e| anyhow::anyhow!("{e}"))
}
