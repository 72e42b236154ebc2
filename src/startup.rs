//! Builds the application: pool, migrations, mail and webhook workers, HTTP server on its own listener
//! (port 0 in tests, so each test gets a free port).

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web as aweb};

use crate::config::Config;
use crate::mail::{Mailer, spawn_worker};
use crate::services::payments::Sandbox;
use crate::web::{self, AppState};
use crate::{db, telemetry};

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Must run inside a Tokio runtime: it spawns the mail and webhook workers.
    pub fn build(mut config: Config) -> anyhow::Result<Application> {
        let pool = migrated_pool(&config)?;
        let secret = session_secret(&config)?;
        let key = Key::derive_from(secret.as_bytes());
        let listener = TcpListener::bind(&config.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
        let local = listener.local_addr()?;
        let port = local.port();
        // Bound to port 0: report (and link to) the port actually given.
        if config.base_url == format!("http://{}", config.bind) {
            config.base_url = format!("http://{local}");
        }
        config.bind = local.to_string();
        let workers = config.workers;
        let secure = config.secure_cookies();
        let state = start_workers(config, pool, &secret)?;
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_name("waybill_session".into())
                        .cookie_secure(secure)
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .build(),
                )
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin"))
                        .add((
                            "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
                        )),
                )
                .wrap(from_fn(telemetry::request_log))
                .app_data(aweb::Data::new(app_state.clone()))
                .app_data(aweb::PayloadConfig::new(4 << 20))
                .configure(web::routes)
                .default_service(aweb::to(web::not_found))
        })
        .listen(listener)?;
        if let Some(n) = workers {
            server = server.workers(n);
        }
        Ok(Application {
            port,
            server: server.run(),
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// A key for one purpose, derived from the session secret.
fn derive_key(secret: &str, purpose: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// The state every handler shares, with the workers and timed jobs behind it started: mail,
/// webhook deliveries, the tracking log's key, the jobs and the import resumer.
fn start_workers(config: Config, pool: db::Pool, secret: &str) -> anyhow::Result<AppState> {
    let mail = spawn_worker(
        pool.clone(),
        Mailer::from_config(&config)?,
        config.mail_poll,
        config.mail_retry_base,
    );
    let webhook_secrets =
        crate::services::webhooks::SecretBox::new(derive_key(secret, "waybill webhook keys"));
    let webhooks = crate::webhooks::spawn_worker(
        pool.clone(),
        crate::webhooks::Settings {
            allow_private: config.webhook_allow_private,
            backoff_scale: config.webhook_backoff_scale,
            timeout: config.webhook_timeout,
            secrets: webhook_secrets.clone(),
        },
    );
    let log_key = Arc::new(crate::services::tracking_log::LogKey::load_or_create(
        &config.log_key_file,
        &config.log_origin,
    )?);
    crate::services::tracking_log::announce(&pool, &log_key);
    crate::jobs::spawn(
        pool.clone(),
        crate::services::sessions::Lifetimes::of(&config),
        config.base_url.clone(),
        log_key.clone(),
    );
    let sandbox = Arc::new(Sandbox::new(secret.as_bytes(), &config.base_url));
    let limit = config.public_rate_limit;
    let state = AppState {
        pool,
        config: Arc::new(config),
        mail,
        payments: sandbox.clone(),
        sandbox,
        quote_key: Arc::new(derive_key(secret, "waybill quote ids")),
        webhooks,
        webhook_secrets,
        log_key,
        tracking_cache: Arc::default(),
        public_limit: Arc::new(crate::web::rate_limit::RateLimiter::new(limit)),
    };
    crate::jobs::spawn_import_resumer(
        state.pool.clone(),
        state.config.currency,
        state.config.base_url.clone(),
        state.quote_key.clone(),
        state.mail.clone(),
    );
    Ok(state)
}

/// The pool, sized for the backend, on a database migrated to this version.
fn migrated_pool(config: &Config) -> anyhow::Result<db::Pool> {
    // A request holds its connection while its write waits for the group commit, so
    // SQLite (whose connections are cheap, in-process) gets enough for every request in
    // flight; PostgreSQL connections are server processes shared by every app server.
    let size = match config.database_url {
        db::DbUrl::Sqlite(_) => 32,
        db::DbUrl::Postgres(_) => 10,
    };
    let pool = db::connect_with(&config.database_url, size, config.sqlite_tuning())?;
    let applied = db::migrate(&mut *pool.get()?)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(pool)
}

/// The session secret: configured, or (local mode only) generated once and kept in the data
/// folder. Cookie keys and the sandbox provider's signing key derive from it.
fn session_secret(config: &Config) -> anyhow::Result<String> {
    if let Some(k) = &config.session_key {
        return Ok(k.expose().to_string());
    }
    let path = config.session_key_file();
    let secret = match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => s.trim().to_string(),
        _ => {
            let s = crate::security::random_token(32)?;
            std::fs::create_dir_all(&config.data_dir)?;
            waybill_app::security::write_private(&path, &s)?;
            tracing::info!(path = %path.display(), "generated a session key");
            s
        }
    };
    Ok(secret)
}
