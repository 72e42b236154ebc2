//! Typed configuration: defaults < `waybill.toml` < environment variables.
//! Secrets are wrapped so `Debug` never prints them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::db::DbUrl;
use crate::domain::Currency;

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
    pub sqlite_sync: crate::db::SqliteSync,
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
    pub tracking_rules: crate::domain::tracking_flags::TrackingRules,
    /// Mails sent at once, each over its own SMTP connection.
    pub mail_concurrency: usize,
    /// A warehouse measurement within the larger of these (grams, percent of the declared
    /// chargeable weight) moves no money.
    pub weight_tolerance_g: i64,
    pub weight_tolerance_percent: i64,
}

/// Every key `waybill.toml` may set, with the environment variable that overrides it. This
/// table is the only place a key is named; `resolve` takes each by name and fails on a name
/// missing from it, so a misspelt key cannot silently land on another one.
pub const KEYS: &[(&str, &str)] = &[
    ("mode", "WAYBILL_MODE"),
    ("database_url", "DATABASE_URL"),
    ("sqlite_sync", "WAYBILL_SQLITE_SYNC"),
    ("sqlite_wal_limit_mb", "WAYBILL_SQLITE_WAL_LIMIT_MB"),
    ("sandbox_payments", "WAYBILL_SANDBOX_PAYMENTS"),
    ("bind", "WAYBILL_BIND"),
    ("base_url", "WAYBILL_BASE_URL"),
    ("mail_url", "WAYBILL_MAIL_URL"),
    ("mail_from", "WAYBILL_MAIL_FROM"),
    ("session_key", "WAYBILL_SESSION_KEY"),
    ("currency", "WAYBILL_CURRENCY"),
    ("data_dir", "WAYBILL_DATA_DIR"),
    ("workers", "WAYBILL_WORKERS"),
    ("mail_retry_seconds", "WAYBILL_MAIL_RETRY_SECONDS"),
    ("mail_poll_seconds", "WAYBILL_MAIL_POLL_SECONDS"),
    ("session_idle_minutes", "WAYBILL_SESSION_IDLE_MINUTES"),
    ("session_max_hours", "WAYBILL_SESSION_MAX_HOURS"),
    ("webhook_allow_private", "WAYBILL_WEBHOOK_ALLOW_PRIVATE"),
    ("webhook_backoff_scale", "WAYBILL_WEBHOOK_BACKOFF_SCALE"),
    ("webhook_timeout_seconds", "WAYBILL_WEBHOOK_TIMEOUT_SECONDS"),
    ("log_key_file", "WAYBILL_LOG_KEY_FILE"),
    ("log_origin", "WAYBILL_LOG_ORIGIN"),
    ("public_rate_limit", "WAYBILL_PUBLIC_RATE_LIMIT"),
    ("no_tracking_days", "WAYBILL_NO_TRACKING_DAYS"),
    ("stale_days_postal", "WAYBILL_STALE_DAYS_POSTAL"),
    ("stale_days_express", "WAYBILL_STALE_DAYS_EXPRESS"),
    ("mail_concurrency", "WAYBILL_MAIL_CONCURRENCY"),
    ("weight_tolerance_g", "WAYBILL_WEIGHT_TOLERANCE_G"),
    (
        "weight_tolerance_percent",
        "WAYBILL_WEIGHT_TOLERANCE_PERCENT",
    ),
];

/// Public tracking requests per minute per client when `WAYBILL_PUBLIC_RATE_LIMIT` is unset.
pub const DEFAULT_PUBLIC_RATE_LIMIT: u32 = 120;

/// The raw values from the file and the environment, by key.
struct RawConfig(HashMap<&'static str, String>);

impl RawConfig {
    /// The value of `key`, which must be in `KEYS`.
    fn take(&mut self, key: &str) -> anyhow::Result<Option<String>> {
        let Some((k, _)) = KEYS.iter().find(|(k, _)| *k == key) else {
            anyhow::bail!("configuration key `{key}` is not in config::KEYS");
        };
        Ok(self.0.remove(k))
    }
}

impl Config {
    /// Reads `WAYBILL_CONFIG` (or `./waybill.toml` when present), then the environment.
    pub fn load() -> anyhow::Result<Config> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let file = match env.get("WAYBILL_CONFIG") {
            Some(p) => Some(PathBuf::from(p)),
            None => Some(PathBuf::from("waybill.toml")).filter(|p| p.exists()),
        };
        let toml_text = match &file {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
            ),
            None => None,
        };
        Config::from_sources(toml_text.as_deref(), &env)
    }

    /// Pure merge of a TOML text and an environment; what `load` and the tests call.
    pub fn from_sources(
        toml_text: Option<&str>,
        env: &HashMap<String, String>,
    ) -> anyhow::Result<Config> {
        let mut raw = HashMap::new();
        if let Some(t) = toml_text {
            let table: toml::Table =
                toml::from_str(t).map_err(|e| anyhow::anyhow!("waybill.toml: {e}"))?;
            for (name, value) in table {
                let Some((key, _)) = KEYS.iter().find(|(k, _)| *k == name) else {
                    anyhow::bail!("waybill.toml: unknown key `{name}`");
                };
                let value = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(n) => n.to_string(),
                    toml::Value::Float(x) => x.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => anyhow::bail!("waybill.toml: `{name}` must be a plain value"),
                };
                raw.insert(*key, value);
            }
        }
        for (key, var) in KEYS {
            if let Some(v) = env.get(*var).filter(|v| !v.is_empty()) {
                raw.insert(*key, v.clone());
            }
        }
        RawConfig(raw).resolve()
    }

    pub fn session_key_file(&self) -> PathBuf {
        self.data_dir.join("session.key")
    }

    /// Cookies are marked Secure when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    pub fn sqlite_tuning(&self) -> crate::db::SqliteTuning {
        crate::db::SqliteTuning {
            sync: self.sqlite_sync,
            wal_limit: self.sqlite_wal_limit,
        }
    }
}

impl RawConfig {
    fn resolve(mut self) -> anyhow::Result<Config> {
        let mode = match self.take("mode")?.as_deref().unwrap_or("local") {
            "local" => Mode::Local,
            "production" => Mode::Production,
            other => anyhow::bail!("WAYBILL_MODE must be `local` or `production`, not `{other}`"),
        };
        let data_dir = PathBuf::from(self.take("data_dir")?.as_deref().unwrap_or("data"));
        let database_url = match &self.take("database_url")? {
            Some(u) => DbUrl::parse(u).map_err(anyhow::Error::msg)?,
            None => DbUrl::Sqlite(data_dir.join("waybill.db")),
        };
        let bind = self
            .take("bind")?
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let base_url = self
            .take("base_url")?
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            anyhow::bail!("WAYBILL_BASE_URL must start with http:// or https://");
        }
        let mail_url = parse_mail_url(self.take("mail_url")?.as_deref(), &data_dir)?;
        let mail_from = self
            .take("mail_from")?
            .unwrap_or_else(|| "Waybill <no-reply@waybill.localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            anyhow::bail!("WAYBILL_MAIL_FROM is not a valid mailbox: {mail_from}");
        }
        let session_key = self.take("session_key")?.map(Secret::new);
        if let Some(k) = &session_key {
            if k.expose().len() < 32 {
                anyhow::bail!("WAYBILL_SESSION_KEY must be at least 32 characters");
            }
        } else if mode == Mode::Production {
            anyhow::bail!(
                "WAYBILL_SESSION_KEY is required in production mode (at least 32 random characters)"
            );
        }
        let raw_currency = self.take("currency")?.unwrap_or_else(|| "CNY".into());
        let currency = match Currency::parse(&raw_currency) {
            Ok(c) if raw_currency.chars().all(|c| c.is_ascii_uppercase()) => c,
            _ => anyhow::bail!(
                "WAYBILL_CURRENCY must be an ISO 4217 code like CNY, not `{raw_currency}`"
            ),
        };
        let workers = match self.take("workers")? {
            Some(w) => Some(
                w.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow::anyhow!("WAYBILL_WORKERS must be a positive number"))?,
            ),
            None => None,
        };
        let sqlite_sync =
            crate::db::SqliteSync::parse(self.take("sqlite_sync")?.as_deref().unwrap_or("full"))
                .map_err(anyhow::Error::msg)?;
        let sqlite_wal_limit = match self.take("sqlite_wal_limit_mb")? {
            Some(mb) => mb
                .parse::<u64>()
                .ok()
                .filter(|mb| (1..=1 << 20).contains(mb))
                .map(|mb| mb << 20)
                .ok_or_else(|| {
                    anyhow::anyhow!("WAYBILL_SQLITE_WAL_LIMIT_MB must be a number of MiB from 1")
                })?,
            None => crate::db::DEFAULT_WAL_LIMIT,
        };
        let sandbox_payments = match self.take("sandbox_payments")?.as_deref() {
            None => mode == Mode::Local,
            Some("on" | "true" | "1") => true,
            Some("off" | "false" | "0") => false,
            Some(other) => {
                anyhow::bail!("WAYBILL_SANDBOX_PAYMENTS must be on or off, not `{other}`")
            }
        };
        let mail_retry_base = seconds(
            self.take("mail_retry_seconds")?.as_deref(),
            30.0,
            "MAIL_RETRY_SECONDS",
        )?;
        let mail_poll = seconds(
            self.take("mail_poll_seconds")?.as_deref(),
            5.0,
            "MAIL_POLL_SECONDS",
        )?;
        let session_idle = whole(
            self.take("session_idle_minutes")?.as_deref(),
            720,
            8_784 * 60,
            "SESSION_IDLE_MINUTES",
        )? * 60;
        let session_max = whole(
            self.take("session_max_hours")?.as_deref(),
            720,
            8_784,
            "SESSION_MAX_HOURS",
        )? * 3_600;
        let webhook_allow_private = match self.take("webhook_allow_private")?.as_deref() {
            None | Some("off" | "false" | "0") => false,
            Some("on" | "true" | "1") => true,
            Some(other) => {
                anyhow::bail!("WAYBILL_WEBHOOK_ALLOW_PRIVATE must be on or off, not `{other}`")
            }
        };
        let webhook_backoff_scale = match self.take("webhook_backoff_scale")? {
            Some(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0 && *v <= 100.0)
                .ok_or_else(|| {
                    anyhow::anyhow!("WAYBILL_WEBHOOK_BACKOFF_SCALE must be a number above 0")
                })?,
            None => 1.0,
        };
        let webhook_timeout = seconds(
            self.take("webhook_timeout_seconds")?.as_deref(),
            10.0,
            "WEBHOOK_TIMEOUT_SECONDS",
        )?;
        let log_key_file = self
            .take("log_key_file")?
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("tracking-log.key"));
        let log_origin = self
            .take("log_origin")?
            .unwrap_or_else(|| crate::domain::tracking_log::default_origin(&base_url));
        if !crate::domain::tracking_log::valid_origin(&log_origin) {
            anyhow::bail!(
                "WAYBILL_LOG_ORIGIN must be a name without spaces or '+', like example.com/tracking-log"
            );
        }
        let public_rate_limit = match self.take("public_rate_limit")?.as_deref().map(str::trim) {
            None => Some(DEFAULT_PUBLIC_RATE_LIMIT),
            Some("off") => None,
            Some(n) => Some(
                n.parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "WAYBILL_PUBLIC_RATE_LIMIT must be requests per minute (a positive number) or `off`"
                        )
                    })?,
            ),
        };
        let defaults = crate::domain::tracking_flags::TrackingRules::default();
        let tracking_rules = crate::domain::tracking_flags::TrackingRules {
            no_tracking_working_days: days(
                self.take("no_tracking_days")?,
                defaults.no_tracking_working_days,
                "WAYBILL_NO_TRACKING_DAYS",
            )?,
            stale_days_postal: days(
                self.take("stale_days_postal")?,
                defaults.stale_days_postal,
                "WAYBILL_STALE_DAYS_POSTAL",
            )?,
            stale_days_express: days(
                self.take("stale_days_express")?,
                defaults.stale_days_express,
                "WAYBILL_STALE_DAYS_EXPRESS",
            )?,
        };
        let mail_concurrency = match self.take("mail_concurrency")? {
            Some(n) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| {
                    anyhow::anyhow!("WAYBILL_MAIL_CONCURRENCY must be a number from 1 to 256")
                })?,
            None => 8,
        };
        let weight_tolerance_g = whole(
            self.take("weight_tolerance_g")?.as_deref(),
            50,
            10_000,
            "WEIGHT_TOLERANCE_G",
        )? as i64;
        let weight_tolerance_percent = whole(
            self.take("weight_tolerance_percent")?.as_deref(),
            3,
            50,
            "WEIGHT_TOLERANCE_PERCENT",
        )? as i64;
        // A key in `KEYS` that nothing takes would be accepted and ignored.
        if let Some(key) = self.0.keys().next() {
            anyhow::bail!("configuration key `{key}` is accepted but read by nothing");
        }
        Ok(Config {
            mode,
            database_url,
            sqlite_sync,
            sqlite_wal_limit,
            sandbox_payments,
            bind,
            base_url,
            mail_url,
            mail_from,
            session_key,
            currency,
            data_dir,
            workers,
            mail_retry_base,
            mail_poll,
            session_idle: Duration::from_secs(session_idle),
            session_max: Duration::from_secs(session_max),
            webhook_allow_private,
            webhook_backoff_scale,
            webhook_timeout,
            log_key_file,
            log_origin,
            public_rate_limit,
            tracking_rules,
            mail_concurrency,
            weight_tolerance_g,
            weight_tolerance_percent,
        })
    }
}

fn days(raw: Option<String>, default: u32, name: &str) -> anyhow::Result<u32> {
    match raw {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| anyhow::anyhow!("{name} must be a number of days from 1 to 365")),
    }
}

fn seconds(raw: Option<&str>, default: f64, name: &str) -> anyhow::Result<Duration> {
    let secs = match raw {
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0 && *v < 86_400.0)
            .ok_or_else(|| anyhow::anyhow!("WAYBILL_{name} must be a number of seconds"))?,
        None => default,
    };
    Ok(Duration::from_secs_f64(secs))
}

/// A whole number from 1 to `max` (a year, for the session lifetimes).
fn whole(raw: Option<&str>, default: u64, max: u64, name: &str) -> anyhow::Result<u64> {
    match raw {
        Some(s) => s
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                anyhow::anyhow!("WAYBILL_{name} must be a whole number from 1 to {max}")
            }),
        None => Ok(default),
    }
}

fn parse_mail_url(raw: Option<&str>, data_dir: &Path) -> anyhow::Result<MailUrl> {
    match raw {
        None => Ok(MailUrl::File(data_dir.join("mail"))),
        Some(u) if u.starts_with("file://") => {
            let dir = &u["file://".len()..];
            if dir.is_empty() {
                anyhow::bail!("WAYBILL_MAIL_URL file:// needs a folder");
            }
            Ok(MailUrl::File(PathBuf::from(dir)))
        }
        Some(u) if u.starts_with("smtp://") || u.starts_with("smtps://") => {
            Ok(MailUrl::Smtp(Secret::new(u)))
        }
        Some(_) => anyhow::bail!("WAYBILL_MAIL_URL must be smtp://…, smtps://… or file://DIR"),
    }
}

#[cfg(test)]
mod tests;
