//! Typed configuration, as the use cases and handlers read it. Reading it from `waybill.toml`
//! and the environment is the binary's job (`waybill::config`). Secrets are wrapped so
//! `Debug` never prints them.

use std::path::PathBuf;
use std::time::Duration;

use waybill_db::DbUrl;
use waybill_domain::Currency;

/// A value that must never reach a log line or a page.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A developer's machine: a session key is generated and kept under the data folder.
    Local,
    /// A real deployment: every secret must be configured.
    Production,
}

/// Where mail goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailUrl {
    /// `smtp://user:pass@host:port` (or `smtps://`, `?tls=required`): lettre's URL form.
    Smtp(Secret),
    /// `file://DIR`: one `.eml` file per message.
    File(PathBuf),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub database_url: DbUrl,
    pub sqlite_sync: waybill_db::SqliteSync,
    /// Bytes of SQLite write-ahead log past which it is restarted (and truncated to).
    pub sqlite_wal_limit: u64,
    /// Whether the built-in sandbox gateway takes payments. On by default in local mode only:
    /// in production it would let anyone top up for free.
    pub sandbox_payments: bool,
    pub bind: String,
    pub base_url: String,
    pub mail_url: MailUrl,
    pub mail_from: String,
    pub session_key: Option<Secret>,
    pub currency: Currency,
    pub data_dir: PathBuf,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// First retry delay of a failed mail; it doubles on each attempt up to an hour.
    pub mail_retry_base: Duration,
    /// How often the mail worker looks for due mail when nothing wakes it.
    pub mail_poll: Duration,
    /// A signed-in session ends after this long unused…
    pub session_idle: Duration,
    /// …and this long after sign-in, however busy.
    pub session_max: Duration,
    /// Whether webhook URLs may be `http://`, loopback or private (development and tests).
    pub webhook_allow_private: bool,
    /// Multiplies the webhook retry schedule (5 s, 5 min, 30 min, …); tests shrink it.
    pub webhook_backoff_scale: f64,
    /// How long one webhook attempt may take, connection to status line.
    pub webhook_timeout: Duration,
    /// The tracking log's Ed25519 signing key (a file, never the database).
    pub log_key_file: PathBuf,
    /// The tracking log's name on its checkpoints and verifier key.
    pub log_origin: String,
    /// Requests per minute per client on the public tracking page and JSON; `None`: no limit.
    pub public_rate_limit: Option<u32>,
    /// When tracking counts as missing or stale.
    pub tracking_rules: waybill_domain::tracking_flags::TrackingRules,
    /// Mails sent at once, each over its own SMTP connection.
    pub mail_concurrency: usize,
    /// A warehouse measurement within the larger of these (grams, percent of the declared
    /// chargeable weight) moves no money.
    pub weight_tolerance_g: i64,
    pub weight_tolerance_percent: i64,
}

impl Config {
    pub fn session_key_file(&self) -> PathBuf {
        self.data_dir.join("session.key")
    }

    /// Cookies are marked Secure when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    pub fn sqlite_tuning(&self) -> waybill_db::SqliteTuning {
        waybill_db::SqliteTuning {
            sync: self.sqlite_sync,
            wal_limit: self.sqlite_wal_limit,
        }
    }
}
