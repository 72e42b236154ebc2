//! Reading the configuration: defaults < `waybill.toml` < environment variables, into the
//! typed `Config` the app and the handlers read (`waybill_app::config`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use waybill_app::config::{Config, MailUrl, Mode, Secret};
use waybill_db::DbUrl;
use waybill_domain::Currency;
use waybill_domain::tracking_flags::TrackingRules;

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
    from_sources(toml_text.as_deref(), &env)
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

/// What the server itself is: where it listens, what it is called, where it keeps its data.
struct Site {
    mode: Mode,
    data_dir: PathBuf,
    database_url: DbUrl,
    bind: String,
    base_url: String,
    session_key: Option<Secret>,
    currency: Currency,
    workers: Option<usize>,
    sandbox_payments: bool,
}

impl RawConfig {
    fn resolve(mut self) -> anyhow::Result<Config> {
        let site = self.site()?;
        let (sqlite_sync, sqlite_wal_limit) = self.sqlite()?;
        let mail_url = parse_mail_url(self.take("mail_url")?.as_deref(), &site.data_dir)?;
        let mail_from = self
            .take("mail_from")?
            .unwrap_or_else(|| "Waybill <no-reply@waybill.localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            anyhow::bail!("WAYBILL_MAIL_FROM is not a valid mailbox: {mail_from}");
        }
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
        let (session_idle, session_max) = self.session_lifetimes()?;
        let (webhook_allow_private, webhook_backoff_scale, webhook_timeout) = self.webhooks()?;
        let log_key_file = self
            .take("log_key_file")?
            .map(PathBuf::from)
            .unwrap_or_else(|| site.data_dir.join("tracking-log.key"));
        let log_origin = self
            .take("log_origin")?
            .unwrap_or_else(|| waybill_domain::tracking_log::default_origin(&site.base_url));
        if !waybill_domain::tracking_log::valid_origin(&log_origin) {
            anyhow::bail!(
                "WAYBILL_LOG_ORIGIN must be a name without spaces or '+', like example.com/tracking-log"
            );
        }
        let public_rate_limit = self.public_rate_limit()?;
        let tracking_rules = self.tracking_rules()?;
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
            mode: site.mode,
            database_url: site.database_url,
            sqlite_sync,
            sqlite_wal_limit,
            sandbox_payments: site.sandbox_payments,
            bind: site.bind,
            base_url: site.base_url,
            mail_url,
            mail_from,
            session_key: site.session_key,
            currency: site.currency,
            data_dir: site.data_dir,
            workers: site.workers,
            mail_retry_base,
            mail_poll,
            session_idle,
            session_max,
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

    fn site(&mut self) -> anyhow::Result<Site> {
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
        let sandbox_payments = match self.take("sandbox_payments")?.as_deref() {
            None => mode == Mode::Local,
            Some("on" | "true" | "1") => true,
            Some("off" | "false" | "0") => false,
            Some(other) => {
                anyhow::bail!("WAYBILL_SANDBOX_PAYMENTS must be on or off, not `{other}`")
            }
        };
        Ok(Site {
            mode,
            data_dir,
            database_url,
            bind,
            base_url,
            session_key,
            currency,
            workers,
            sandbox_payments,
        })
    }

    fn sqlite(&mut self) -> anyhow::Result<(waybill_db::SqliteSync, u64)> {
        let sync =
            waybill_db::SqliteSync::parse(self.take("sqlite_sync")?.as_deref().unwrap_or("full"))
                .map_err(anyhow::Error::msg)?;
        let wal_limit = match self.take("sqlite_wal_limit_mb")? {
            Some(mb) => mb
                .parse::<u64>()
                .ok()
                .filter(|mb| (1..=1 << 20).contains(mb))
                .map(|mb| mb << 20)
                .ok_or_else(|| {
                    anyhow::anyhow!("WAYBILL_SQLITE_WAL_LIMIT_MB must be a number of MiB from 1")
                })?,
            None => waybill_db::DEFAULT_WAL_LIMIT,
        };
        Ok((sync, wal_limit))
    }

    fn session_lifetimes(&mut self) -> anyhow::Result<(Duration, Duration)> {
        let idle = whole(
            self.take("session_idle_minutes")?.as_deref(),
            720,
            8_784 * 60,
            "SESSION_IDLE_MINUTES",
        )? * 60;
        let max = whole(
            self.take("session_max_hours")?.as_deref(),
            720,
            8_784,
            "SESSION_MAX_HOURS",
        )? * 3_600;
        Ok((Duration::from_secs(idle), Duration::from_secs(max)))
    }

    fn webhooks(&mut self) -> anyhow::Result<(bool, f64, Duration)> {
        let allow_private = match self.take("webhook_allow_private")?.as_deref() {
            None | Some("off" | "false" | "0") => false,
            Some("on" | "true" | "1") => true,
            Some(other) => {
                anyhow::bail!("WAYBILL_WEBHOOK_ALLOW_PRIVATE must be on or off, not `{other}`")
            }
        };
        let backoff_scale = match self.take("webhook_backoff_scale")? {
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
        let timeout = seconds(
            self.take("webhook_timeout_seconds")?.as_deref(),
            10.0,
            "WEBHOOK_TIMEOUT_SECONDS",
        )?;
        Ok((allow_private, backoff_scale, timeout))
    }

    fn public_rate_limit(&mut self) -> anyhow::Result<Option<u32>> {
        Ok(
            match self.take("public_rate_limit")?.as_deref().map(str::trim) {
                None => Some(DEFAULT_PUBLIC_RATE_LIMIT),
                Some("off") => None,
                Some(n) => Some(n.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    anyhow::anyhow!(
                        "WAYBILL_PUBLIC_RATE_LIMIT must be requests per minute (a positive number) or `off`"
                    )
                })?),
            },
        )
    }

    fn tracking_rules(&mut self) -> anyhow::Result<TrackingRules> {
        let defaults = TrackingRules::default();
        Ok(TrackingRules {
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
