//! Database access: one connection type over SQLite and PostgreSQL, its pool and migrations.
//! Handlers never build queries; they call the per-aggregate functions in this module's files.
//!
//! Lookups by a unique key use `get_result`, never `first`: `first` adds `LIMIT ?`, and the
//! bundled SQLite (built with STAT4) re-prepares a statement whenever a parameter that
//! shapes its plan is bound, which made every such cached statement parse again per call.

/// Runs a query on the concrete connection inside a `DbConn`. The query is written once and
/// compiled for each backend; used on the booking path, where going through the multi-backend
/// wrapper meant rebuilding every statement's SQL text just to find it in the statement cache.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConn::Sqlite($c) => $body,
            $crate::DbConn::Postgres($c) => $body,
        }
    };
}

pub mod addresses;
pub mod api_keys;
pub mod areas;
pub mod channels;
pub mod columns;
pub mod imports;
pub mod ledger;
pub mod login_failures;
pub mod outbox;
pub mod password_resets;
pub mod pickups;
pub mod prepared;
pub mod schema;
pub mod sessions;
pub mod shipments;
pub mod tracking;
pub mod users;
pub mod warehouse;
pub mod webhooks;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The connection every query runs on; the variant is chosen from the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Where the data lives. Parsed once from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    /// A SQLite path (`./data/waybill.db`, `sqlite://path`, `sqlite:path`) or `postgres://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(raw.to_string()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("DATABASE_URL sqlite:// needs a file path".into());
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(format!(
                "DATABASE_URL scheme `{scheme}://` is not supported: use a SQLite file path, sqlite://PATH or postgres://…"
            ));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(raw)))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            DbUrl::Sqlite(_) => "sqlite",
            DbUrl::Postgres(_) => "postgres",
        }
    }
}

impl std::fmt::Debug for DbUrl {
    // The PostgreSQL URL may hold a password: show only host and database.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            DbUrl::Postgres(url) => {
                let tail = url.rsplit_once('@').map(|(_, t)| t).unwrap_or_else(|| {
                    url.trim_start_matches("postgresql://")
                        .trim_start_matches("postgres://")
                });
                write!(f, "postgres://…@{tail}")
            }
        }
    }
}

/// How SQLite syncs commits to disk: FULL (each commit durable; the default, money moves
/// here) or NORMAL (in WAL mode, the last commits may be lost on power failure, not on a crash
/// of Waybill). BENCHMARKS.md has both measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqliteSync {
    Full,
    Normal,
}

/// How Waybill tunes SQLite: commit durability and the size the write-ahead log is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqliteTuning {
    pub sync: SqliteSync,
    /// Bytes of write-ahead log past which the writer restarts the log and truncates it to.
    pub wal_limit: u64,
}

impl Default for SqliteTuning {
    fn default() -> Self {
        SqliteTuning {
            sync: SqliteSync::Full,
            wal_limit: DEFAULT_WAL_LIMIT,
        }
    }
}

/// 16 MiB: at full booking speed the log restarts a few times a second, each restart a pause
/// of a millisecond or two for the writer; SQLite's own default (4 MiB) would be ten.
pub const DEFAULT_WAL_LIMIT: u64 = 16 << 20;

/// How long a connection waits for a lock another connection holds before failing.
pub(crate) const BUSY_TIMEOUT_MS: u64 = 10_000;

/// How much of the database file each connection reads through a memory map rather than
/// copying pages into its own small page cache: a public tracking read touches dozens of
/// event rows scattered over the file, and each pooled connection re-read them with `pread`.
/// The map is address space over the OS page cache, shared by every connection.
pub(crate) const MMAP_BYTES: u64 = 256 << 20;

impl SqliteSync {
    pub fn parse(s: &str) -> Result<SqliteSync, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(SqliteSync::Full),
            "normal" => Ok(SqliteSync::Normal),
            other => Err(format!(
                "WAYBILL_SQLITE_SYNC must be `full` or `normal`, not `{other}`"
            )),
        }
    }
}

/// r2d2 manager that opens the right backend for the URL and tunes SQLite on every connection.
pub struct Manager {
    url: DbUrl,
    tuning: SqliteTuning,
    /// SQLite's group-commit writer, kept alive as long as the pool.
    _writer: Option<std::sync::Arc<writer::Writer>>,
}

/// Opens a SQLite connection tuned as every Waybill connection is.
fn open_sqlite(path: &Path, tuning: SqliteTuning) -> Result<DbConn, r2d2::Error> {
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
        .map_err(r2d2::Error::ConnectionError)?;
    // WAL lets readers run beside the writer; busy_timeout makes writers queue
    // instead of failing; foreign keys are off by default in SQLite; journal_size_limit
    // truncates the log when it restarts (`writer.rs` sees that it does).
    let sync = match tuning.sync {
        SqliteSync::Full => "FULL",
        SqliteSync::Normal => "NORMAL",
    };
    conn.batch_execute(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; \
         PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = {}; \
         PRAGMA mmap_size = {MMAP_BYTES};",
        tuning.wal_limit
    ))
    .map_err(r2d2::Error::QueryError)?;
    Ok(DbConn::Sqlite(conn))
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DbUrl::Sqlite(path) => open_sqlite(path, self.tuning),
            DbUrl::Postgres(url) => diesel::PgConnection::establish(url)
                .map(DbConn::Postgres)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        match conn {
            DbConn::Sqlite(_) => false,
            DbConn::Postgres(c) => r2d2::R2D2Connection::is_broken(c),
        }
    }
}

/// Opens the pool with durable SQLite commits (see `connect_with`).
pub fn connect(url: &DbUrl, max_size: u32) -> anyhow::Result<Pool> {
    connect_with(url, max_size, SqliteTuning::default())
}

/// Opens the pool (creating the SQLite file and its folder if missing).
pub fn connect_with(url: &DbUrl, max_size: u32, tuning: SqliteTuning) -> anyhow::Result<Pool> {
    let writer = match url {
        DbUrl::Sqlite(path) => {
            ensure_parent_dir(path)?;
            let path = path.clone();
            Some(
                writer::Writer::register(
                    move || open_sqlite(&path, tuning).map_err(|e| e.to_string()),
                    tuning.sync == SqliteSync::Full,
                    tuning.wal_limit,
                )
                .map_err(anyhow::Error::msg)?,
            )
        }
        DbUrl::Postgres(_) => None,
    };
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        // Open connections on demand: start-up stays fast and idle servers hold few.
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(Manager {
            url: url.clone(),
            tuning,
            _writer: writer,
        })?;
    Ok(pool)
}

fn ensure_parent_dir(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create database folder {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Applies pending migrations; returns the versions applied.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .iter()
            .map(|v| v.to_string())
            .collect(),
        DbConn::Postgres(c) => {
            // Several app servers may start at once: one migrates, the others wait.
            c.batch_execute("SELECT pg_advisory_lock(7261001)")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|vs| vs.iter().map(|v| v.to_string()).collect::<Vec<_>>())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            c.batch_execute("SELECT pg_advisory_unlock(7261001)")?;
            result?
        }
    };
    Ok(applied)
}

/// A write transaction: `f` runs all or nothing and the call returns once it is committed.
/// On PostgreSQL that is a plain transaction on `conn`. On SQLite it is a member of a group
/// commit on the database's write connection (`writer.rs`); `conn` only names the database.
/// Every SQLite write that reads before it writes must come here: a deferred transaction on
/// a pooled connection fails with SQLITE_BUSY when the writer commits in between.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if let DbConn::Postgres(_) = conn {
        #[allow(clippy::disallowed_methods)] // the one place PostgreSQL opens a transaction
        return conn.transaction(f);
    }
    // Every SQLite connection comes from a pool, which registered the writer of its file.
    let writer = writer::Writer::of(conn)?.ok_or_else(|| {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new("no write connection is open for this SQLite database".to_string()),
        )
    })?;
    writer.run(f)
}

/// Whether an error is a unique-constraint violation (e.g. a duplicate e-mail or key).
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Current time as stored: UTC, microsecond precision (both backends keep microseconds).
/// Runs `load` over `keys` 500 at a time (an `IN` list far below SQLite's limit on bound
/// parameters), the results in one list.
pub fn in_chunks<K, T>(
    keys: &[K],
    mut load: impl FnMut(&[K]) -> QueryResult<Vec<T>>,
) -> QueryResult<Vec<T>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(500) {
        found.extend(load(chunk)?);
    }
    Ok(found)
}

pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::Timelike::with_nanosecond(&now, now.and_utc().timestamp_subsec_micros() * 1000)
        .unwrap_or(now)
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An error with its causes, for a log line: diesel's outer message names the field that did
/// not deserialize, the cause says why.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
