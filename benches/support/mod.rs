//! What the benchmarks share: the `waybill` binary run as a subprocess, a server on a free
//! loopback port, a scratch PostgreSQL database, a demo seller with money, percentiles. Each
//! bench is its own crate and takes only some of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;

pub const BIN: &str = env!("CARGO_BIN_EXE_waybill");

/// `waybill` run in `dir` on the database at `url`: data under `dir`, mail written as files
/// under `dir/mail` (a bench that wants SMTP sets `WAYBILL_MAIL_URL` again), warnings only.
pub fn waybill(dir: &Path, url: &str) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env("DATABASE_URL", url)
        .env("WAYBILL_DATA_DIR", dir)
        .env(
            "WAYBILL_MAIL_URL",
            format!("file://{}", dir.join("mail").display()),
        )
        .env("RUST_LOG", "warn");
    c
}

/// Runs a command to its end; its standard output, or an error if it failed.
pub fn run(c: Command) -> anyhow::Result<String> {
    run_with_input(c, "")
}

/// `run` with `stdin` written to the command's standard input (a password prompt).
pub fn run_with_input(mut c: Command, stdin: &str) -> anyhow::Result<String> {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(stdin.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    anyhow::ensure!(out.status.success(), "{:?} failed", c);
    Ok(String::from_utf8(out.stdout)?)
}

/// `demo`, an API key for the demo seller and ¥50,000 in its wallet: the key.
pub fn demo_seller(dir: &Path, url: &str) -> anyhow::Result<String> {
    let cli = |args: &[&str]| {
        let mut c = waybill(dir, url);
        c.args(args);
        run(c)
    };
    cli(&["demo"])?;
    let key = cli(&["apikey", "create", "--email", "seller@demo.waybill.test"])?
        .trim()
        .to_string();
    cli(&[
        "wallet",
        "credit",
        "--email",
        "seller@demo.waybill.test",
        "--amount",
        "5000000",
        "--note",
        "bench",
    ])?;
    Ok(key)
}

/// `waybill serve` as a subprocess on a free loopback port; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `c` (a `waybill` command) serving, and returns once it answers `/healthz`.
    pub async fn start(mut c: Command, client: &reqwest::Client) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = c
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if client
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok()
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        anyhow::bail!("waybill serve did not answer on {}", server.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client for the load: keep-alive, enough idle connections for every task.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?)
}

/// A database of its own on the PostgreSQL at `WAYBILL_BENCH_PG_URL` (default
/// postgres://postgres@127.0.0.1:5432/postgres), dropped with this; `None` when that is `off`.
pub struct ScratchPg {
    admin: diesel::PgConnection,
    name: String,
    pub url: String,
}

impl ScratchPg {
    pub fn create(prefix: &str) -> anyhow::Result<Option<ScratchPg>> {
        let pg = std::env::var("WAYBILL_BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        if pg == "off" {
            return Ok(None);
        }
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&pg)?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let url = format!("{}/{name}", pg.rsplit_once('/').map(|x| x.0).unwrap_or(&pg));
        Ok(Some(ScratchPg { admin, name, url }))
    }
}

impl Drop for ScratchPg {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name));
    }
}

/// The `p` quantile of sorted durations, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
