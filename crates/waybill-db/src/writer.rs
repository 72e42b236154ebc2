//! Group commit for SQLite. SQLite has one writer at a time and each commit writes the WAL and
//! syncs it; under load most of a booking's write time went to that, one booking at a time.
//! Here every write transaction of a process runs on one dedicated connection: a writer takes
//! the connection, runs its work in a savepoint of the open group transaction and, if other
//! writers are already queued, leaves the group open for them; the last one (or the one that
//! fills the group) commits for all. Nobody's call returns before the commit that holds its
//! work is durable, and a failed commit fails every member of the group.
//!
//! Durability is kept while the lock is not: with `synchronous = FULL` configured, the write
//! connection commits with NORMAL (the WAL frames reach the OS, not the disk) and the
//! committing thread then syncs the WAL file itself *after* letting the next group in, so the
//! disk flush of one group overlaps the work of the next. Members still return only after the
//! flush that covers their commit. Other connections may read a group a millisecond before it
//! is on disk; anything that writes afterwards commits in a later group, whose flush covers
//! the earlier one (so, say, a confirmation mail is never sent for a booking a power cut could
//! still undo).
//!
//! The log is kept bounded. A PASSIVE checkpoint every 100 ms copies it into the database
//! without blocking anyone, but the log only starts over once nobody reads from it, and beside
//! steady writes and readers that moment never comes: it grew by tens of MB a second. So once
//! it passes its limit the writer restarts it itself, between two groups (a RESTART
//! checkpoint that waits a few milliseconds at most for readers to leave it; the next commit
//! truncates the file to `journal_size_limit`), and after two seconds without writes the
//! checkpointer truncates it to nothing. A checkpoint syncs the log before copying it and the
//! database after, so a group whose own flush has not run yet is on disk before its frames
//! can be overwritten.
//!
//! The writer is found by the database file a connection has open, so one process may hold
//! several databases (tests do) and `write_tx` keeps taking any pooled connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConn;

/// Most writers committed together: bounds how long the first one waits for the last.
const MAX_GROUP: usize = 32;

/// How often the checkpointer copies the log into the database and looks at its size.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Longest a restart of the log waits for readers, while every writer waits for it.
const RESTART_WAIT: Duration = Duration::from_millis(20);
/// After readers kept the log from restarting, how long the writer leaves them before trying
/// again (each try holds up the writers for up to `RESTART_WAIT`).
const RESTART_RETRY: Duration = Duration::from_millis(100);
/// Writes must have stopped this long before the log is truncated to nothing.
const IDLE_AFTER: Duration = Duration::from_secs(2);
/// Longest the idle truncation waits for readers (holding off writers meanwhile).
const TRUNCATE_WAIT: Duration = Duration::from_millis(100);

/// The dedicated write connection of one SQLite database and its open group.
pub struct Writer {
    /// The database file, as SQLite names it in `PRAGMA database_list`.
    file: String,
    open: Box<dyn Fn() -> Result<DbConn, String> + Send + Sync>,
    /// Whether this writer flushes the WAL itself after each group (FULL configured).
    flush_wal: bool,
    /// Bytes of log past which the writer restarts it.
    wal_limit: u64,
    /// Held by whichever of the checkpointer and the writer is checkpointing: SQLite lets one
    /// checkpoint run at a time and fails the other at once.
    checkpointing: Mutex<()>,
    state: Mutex<Group>,
    /// Writers waiting for `state`: while there are any, the group stays open for them.
    queued: AtomicUsize,
    flush: Mutex<Flush>,
    flushed: Condvar,
}

/// Commits written to the WAL and flushed to disk, counted in commit order.
#[derive(Default)]
struct Flush {
    committed: u64,
    flushed: u64,
    flushing: bool,
    failed: Option<String>,
}

#[derive(Default)]
struct Group {
    conn: Option<DbConn>,
    /// The WAL file, opened after the first commit, for flushing it outside the lock.
    wal: Option<Arc<std::fs::File>>,
    /// Set when readers kept the log from restarting: not before then again.
    restart_after: Option<Instant>,
    ticket: Option<Arc<Ticket>>,
    members: usize,
}

/// The outcome of one group's commit, which its members wait for.
#[derive(Default)]
struct Ticket {
    outcome: Mutex<Option<Result<(), String>>>,
    done: Condvar,
}

impl Ticket {
    fn finish(&self, outcome: Result<(), String>) {
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
        self.done.notify_all();
    }

    fn wait(&self) -> Result<(), String> {
        let mut o = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(outcome) = o.as_ref() {
                return outcome.clone();
            }
            o = self.done.wait(o).unwrap_or_else(|p| p.into_inner());
        }
    }
}

fn error(msg: String) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(msg))
}

// SQLite's list of a connection's databases, as a table so the lookup is a cached statement.
diesel::table! {
    pragma_database_list (name) {
        name -> Text,
        file -> Text,
    }
}

/// The main database file a SQLite connection has open.
fn main_file(conn: &mut DbConn) -> QueryResult<String> {
    per_backend!(conn, |c| pragma_database_list::table
        .filter(pragma_database_list::name.eq("main"))
        .select(pragma_database_list::file)
        .get_result(c))
}

static WRITERS: Mutex<Vec<Weak<Writer>>> = Mutex::new(Vec::new());

impl Writer {
    /// Opens the write connection with `open` and registers it for its database file. The
    /// pool keeps the returned handle; when the pool goes, so does the writer.
    pub fn register(
        open: impl Fn() -> Result<DbConn, String> + Send + Sync + 'static,
        durable: bool,
        wal_limit: u64,
    ) -> Result<Arc<Writer>, String> {
        let open = move || {
            let mut conn = open()?;
            // Checkpoints run on their own thread (`checkpoints`), not inside a commit while
            // every waiting writer waits too.
            conn.batch_execute("PRAGMA wal_autocheckpoint = 0")
                .map_err(|e| e.to_string())?;
            if durable {
                // The commit writes the WAL; `run` flushes it once the lock is released.
                conn.batch_execute("PRAGMA synchronous = NORMAL")
                    .map_err(|e| e.to_string())?;
            }
            Ok(conn)
        };
        let mut conn = open()?;
        let file = main_file(&mut conn).map_err(|e| e.to_string())?;
        let mut all = WRITERS.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|w| w.strong_count() > 0);
        // Another pool of this process on the same file: share its writer.
        if let Some(w) = all
            .iter()
            .filter_map(Weak::upgrade)
            .find(|w| w.file == file)
        {
            return Ok(w);
        }
        let writer = Arc::new(Writer {
            file,
            open: Box::new(open),
            flush_wal: durable,
            wal_limit,
            checkpointing: Mutex::new(()),
            state: Mutex::new(Group {
                conn: Some(conn),
                ..Group::default()
            }),
            queued: AtomicUsize::new(0),
            flush: Mutex::new(Flush::default()),
            flushed: Condvar::new(),
        });
        all.push(Arc::downgrade(&writer));
        let checkpointer = Arc::downgrade(&writer);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoints(checkpointer))
            .map_err(|e| e.to_string())?;
        Ok(writer)
    }

    /// Returns once the WAL is on disk up to commit `seq`. One flush covers every commit
    /// made before it started: while one is running, the groups that commit meanwhile wait
    /// and share the next.
    fn flush_until(&self, seq: u64, wal: &std::fs::File) -> Result<(), String> {
        let mut fl = self.flush.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(e) = &fl.failed {
                return Err(e.clone());
            }
            if fl.flushed >= seq {
                return Ok(());
            }
            if !fl.flushing {
                break;
            }
            fl = self.flushed.wait(fl).unwrap_or_else(|p| p.into_inner());
        }
        fl.flushing = true;
        let target = fl.committed;
        drop(fl);
        let result = wal.sync_data();
        let mut fl = self.flush.lock().unwrap_or_else(|p| p.into_inner());
        fl.flushing = false;
        match result {
            Ok(()) => fl.flushed = target,
            // After a failed flush nobody knows what reached the disk (the kernel may have
            // dropped the pages): like PostgreSQL, refuse to report any later write durable.
            Err(e) => {
                tracing::error!(error = %e, "the SQLite write-ahead log could not be flushed");
                fl.failed = Some(format!(
                    "the write-ahead log could not be flushed ({e}); restart Waybill"
                ));
            }
        }
        self.flushed.notify_all();
        match &fl.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The writer of the database `conn` has open, if one is registered.
    pub fn of(conn: &mut DbConn) -> QueryResult<Option<Arc<Writer>>> {
        let file = main_file(conn)?;
        let all = WRITERS.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all
            .iter()
            .filter_map(Weak::upgrade)
            .find(|w| w.file == file && !file.is_empty()))
    }

    /// Runs `f` as part of a group transaction and returns once that group is committed.
    pub fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<DieselError>,
    {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let mut held = Held { g: guard };
        let ticket = held.join(&self.open)?;
        let result = match held.g.conn.as_mut() {
            // The member's own savepoint: its failure undoes only its own work.
            #[allow(clippy::disallowed_methods)] // the writer's own connection: the one writer
            Some(conn) => conn.transaction(f),
            None => Err(error("the write connection is closed".into()).into()),
        };
        held.g.members += 1;
        let commit_now = self.queued.load(Ordering::SeqCst) == 0 || held.g.members >= MAX_GROUP;
        let outcome = if commit_now {
            let committed = held.commit();
            if committed.is_ok() {
                held.bound_log(self);
            }
            let wal = match (&committed, self.flush_wal) {
                (Ok(()), true) => Some(held.wal(&self.file).map(|f| {
                    // Numbered under the lock, so numbers follow the order of commits.
                    let mut fl = self.flush.lock().unwrap_or_else(|p| p.into_inner());
                    fl.committed += 1;
                    (f, fl.committed)
                })),
                _ => None,
            };
            // The next group may start while this one's commit goes to disk.
            drop(held);
            let outcome = committed.and_then(|()| match wal {
                Some(Ok((file, seq))) => self.flush_until(seq, &file),
                Some(Err(e)) => Err(e),
                None => Ok(()),
            });
            ticket.finish(outcome.clone());
            outcome
        } else {
            drop(held);
            ticket.wait()
        };
        // A failed member reports its own error, after the commit, so that whatever made it
        // fail (say, a duplicate key another member inserted) is visible to a retry.
        let value = result?;
        outcome.map_err(|e| error(e).into()).map(|()| value)
    }
}

/// What `PRAGMA wal_checkpoint` reports.
#[derive(QueryableByName)]
struct Checkpoint {
    /// 1 when a RESTART or TRUNCATE could not finish (readers stayed, or another checkpoint
    /// was running).
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
}

/// What `PRAGMA data_version` reports: it moves when another connection has changed the
/// database (a transaction that wrote nothing, like the mail worker's empty claims, leaves it).
#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    data_version: i64,
}

/// Runs a checkpoint of `mode`, waiting at most `wait` for locks; whether it finished.
fn checkpoint(c: &mut SqliteConnection, mode: &str, wait: Duration) -> QueryResult<bool> {
    c.batch_execute(&format!("PRAGMA busy_timeout = {}", wait.as_millis()))?;
    let done =
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result::<Checkpoint>(c);
    c.batch_execute(&format!("PRAGMA busy_timeout = {}", super::BUSY_TIMEOUT_MS))?;
    Ok(done?.busy == 0)
}

/// Copies committed WAL frames into the database file every 100 ms, on a connection of its
/// own, until the writer is gone (so that a restart of the log by the writer finds little left
/// to copy), and truncates the log once nothing has changed for `IDLE_AFTER`. A PASSIVE
/// checkpoint never blocks the writer or readers; the idle truncation holds off writers for
/// at most `TRUNCATE_WAIT`.
fn checkpoints(writer: Weak<Writer>) {
    let mut conn = None;
    let mut version = None;
    let mut quiet_since = Instant::now();
    loop {
        std::thread::sleep(CHECKPOINT_EVERY);
        let Some(w) = writer.upgrade() else { return };
        if conn.is_none() {
            conn = (w.open)().ok();
        }
        let Some(DbConn::Sqlite(c)) = conn.as_mut() else {
            continue;
        };
        let wal = std::fs::metadata(format!("{}-wal", w.file)).map_or(0, |m| m.len());
        let now = diesel::sql_query("PRAGMA data_version")
            .get_result::<DataVersion>(c)
            .map(|v| v.data_version);
        if now.as_ref().ok() != version.as_ref() {
            (version, quiet_since) = (now.ok(), Instant::now());
        }
        let _checkpointing = w.checkpointing.lock().unwrap_or_else(|p| p.into_inner());
        let result = if wal > 0 && quiet_since.elapsed() >= IDLE_AFTER {
            checkpoint(c, "TRUNCATE", TRUNCATE_WAIT)
        } else {
            checkpoint(c, "PASSIVE", Duration::ZERO)
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
            conn = None;
        }
    }
}

/// The locked state; rolls the group back if a member panics while holding it.
struct Held<'a> {
    g: MutexGuard<'a, Group>,
}

impl Held<'_> {
    /// Joins the open group, or opens one.
    fn join(
        &mut self,
        open: &dyn Fn() -> Result<DbConn, String>,
    ) -> Result<Arc<Ticket>, DieselError> {
        if let Some(t) = &self.g.ticket {
            return Ok(t.clone());
        }
        if self.g.conn.is_none() {
            self.g.conn = Some(open().map_err(error)?);
        }
        let Some(DbConn::Sqlite(conn)) = self.g.conn.as_mut() else {
            return Err(error("the write connection is not SQLite".into()));
        };
        // IMMEDIATE takes SQLite's write lock now (waiting under busy_timeout for writers of
        // other processes): a deferred transaction could fail with SQLITE_BUSY later instead.
        if let Err(e) = AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN IMMEDIATE") {
            // A connection whose transaction state is unknown is not reused.
            self.g.conn = None;
            return Err(e);
        }
        let t = Arc::new(Ticket::default());
        self.g.ticket = Some(t.clone());
        self.g.members = 0;
        Ok(t)
    }

    /// Restarts the log once it has passed its limit, between two groups (see the module
    /// doc); the next commit then writes from its start and truncates the file.
    fn bound_log(&mut self, w: &Writer) {
        if self.g.restart_after.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let size = self
            .wal(&w.file)
            .map_or(0, |f| f.metadata().map_or(0, |m| m.len()));
        let Some(DbConn::Sqlite(conn)) = self.g.conn.as_mut().filter(|_| size > w.wal_limit) else {
            return;
        };
        // The checkpointer is copying the log: try again after the next group.
        let Ok(_checkpointing) = w.checkpointing.try_lock() else {
            return;
        };
        self.g.restart_after = match checkpoint(conn, "RESTART", RESTART_WAIT) {
            Ok(true) => None,
            Ok(false) => {
                tracing::debug!(size, "readers kept the SQLite log from restarting");
                Some(Instant::now() + RESTART_RETRY)
            }
            Err(e) => {
                tracing::warn!(error = %e, size, "the SQLite log could not be restarted");
                Some(Instant::now() + RESTART_RETRY)
            }
        };
    }

    /// The WAL file of `db`, opened once.
    fn wal(&mut self, db: &str) -> Result<Arc<std::fs::File>, String> {
        if let Some(f) = &self.g.wal {
            return Ok(f.clone());
        }
        let f = std::fs::File::open(format!("{db}-wal"))
            .map(Arc::new)
            .map_err(|e| format!("the write-ahead log could not be opened: {e}"))?;
        self.g.wal = Some(f.clone());
        Ok(f)
    }

    fn commit(&mut self) -> Result<(), String> {
        self.g.ticket = None;
        self.g.members = 0;
        let Some(DbConn::Sqlite(conn)) = self.g.conn.as_mut() else {
            return Err("the write connection is closed".into());
        };
        match AnsiTransactionManager::commit_transaction(conn) {
            Ok(()) => Ok(()),
            Err(e) => {
                if AnsiTransactionManager::rollback_transaction(conn).is_err() {
                    self.g.conn = None;
                }
                Err(format!("the group commit failed: {e}"))
            }
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Closing the connection rolls back the open transaction; the members waiting
            // for this group are told it failed.
            if let Some(mut conn) = self.g.conn.take() {
                let _ = conn.batch_execute("ROLLBACK");
            }
            if let Some(t) = self.g.ticket.take() {
                t.finish(Err("a write in this group panicked".into()));
            }
            self.g.members = 0;
        }
    }
}
