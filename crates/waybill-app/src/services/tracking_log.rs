//! The tracking transparency log: every recorded event is appended as a record to an RFC 6962
//! Merkle tree whose stored hashes live beside the events (`tlog_tiles`), heads are published
//! as C2SP checkpoints signed with an Ed25519 key kept in a file (`signed_note`), and
//! `verify_chain` rebuilds everything from the stored events to find tampering. `cache` keeps
//! what the public reads need of it in memory.

pub mod cache;
mod verify;

pub use verify::{Verification, verify_chain};

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use signed_note::{Note, Signer as _, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash, HashReader};

use crate::error::AppError;
use waybill_db::shipments::ShipmentEvent;
use waybill_db::tracking::{self as store, RecordRow, StoredCheckpoint};
use waybill_db::{self as db, DbConn};
use waybill_domain::tracking_log::{LogRecord, log_time};

/// The record logged for an event, rebuilt from its stored columns.
pub fn record_of(e: &ShipmentEvent, tracking_number: &str, digest: Option<&str>) -> Vec<u8> {
    LogRecord {
        tracking_number,
        status: e.status.as_str(),
        code: e.code.as_deref(),
        occurred_at: log_time(e.occurred_at),
        location: e.location.as_deref(),
        description: &e.description,
        source: &e.source,
        source_event_id: e.source_event_id.as_deref(),
        request_sha256: digest,
        received_at: log_time(e.received_at),
    }
    .to_bytes()
}

/// The same from the columns the public reads load (field for field as `record_of`; the
/// tests check the proofs served from these against the checkpoints by hand).
pub fn record_of_row(r: &RecordRow, tracking_number: &str, digest: Option<&str>) -> Vec<u8> {
    LogRecord {
        tracking_number,
        status: r.status.as_str(),
        code: r.code.as_deref(),
        occurred_at: log_time(r.occurred_at),
        location: r.location.as_deref(),
        description: &r.description,
        source: &r.source,
        source_event_id: r.source_event_id.as_deref(),
        request_sha256: digest,
        received_at: log_time(r.received_at),
    }
    .to_bytes()
}

/// The log's signing key (Ed25519), kept in a file outside the database, and the log's name.
pub struct LogKey {
    signing: ed25519_dalek::SigningKey,
    origin: String,
}

const ALG_ED25519: u8 = 1;

impl LogKey {
    /// Reads the key file, creating it (mode 0600) with a fresh key when it is missing.
    pub fn load_or_create(path: &Path, origin: &str) -> anyhow::Result<LogKey> {
        if !path.exists() {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
            let key = LogKey::from_seed(seed, origin)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            crate::security::write_private(path, &format!("{}\n", key.signer_key()))?;
            tracing::info!(path = %path.display(), "generated the tracking log signing key");
            return Ok(key);
        }
        LogKey::load(path, origin)
    }

    /// Reads an existing key file (a C2SP signed-note private key, `PRIVATE+KEY+…`).
    pub fn load(path: &Path, origin: &str) -> anyhow::Result<LogKey> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the log key {}: {e}", path.display()))?;
        // `PRIVATE+KEY+<name>+<id>+<base64>`: names hold no '+', base64 may.
        let b64 = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .and_then(|rest| rest.splitn(3, '+').nth(2))
            .ok_or_else(|| {
                anyhow::anyhow!("{} is not a signed-note private key", path.display())
            })?;
        let bytes = B64
            .decode(b64)
            .map_err(|_| anyhow::anyhow!("{}: the key is not base64", path.display()))?;
        let seed: [u8; 32] = match bytes.split_first() {
            Some((&ALG_ED25519, rest)) => rest
                .try_into()
                .map_err(|_| anyhow::anyhow!("{}: not an Ed25519 key", path.display()))?,
            _ => anyhow::bail!("{}: not an Ed25519 key", path.display()),
        };
        LogKey::from_seed(seed, origin)
    }

    fn from_seed(seed: [u8; 32], origin: &str) -> anyhow::Result<LogKey> {
        if !waybill_domain::tracking_log::valid_origin(origin) {
            anyhow::bail!("WAYBILL_LOG_ORIGIN `{origin}` must have no spaces and no '+'");
        }
        Ok(LogKey {
            signing: ed25519_dalek::SigningKey::from_bytes(&seed),
            origin: origin.to_string(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>`, as Go's note package writes it.
    fn signer_key(&self) -> String {
        let mut private = vec![ALG_ED25519];
        private.extend_from_slice(&self.signing.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.origin,
            self.key_id(),
            B64.encode(private)
        )
    }

    fn key_id(&self) -> u32 {
        let mut public = vec![ALG_ED25519];
        public.extend_from_slice(self.signing.verifying_key().as_bytes());
        signed_note::key_id(&self.origin, &public)
    }

    /// The verifier key, `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`.
    pub fn verifier_key(&self) -> String {
        signed_note::new_ed25519_verifier_key(&self.origin, &self.signing.verifying_key())
    }

    fn signer(&self) -> Result<StandardSigner, AppError> {
        StandardSigner::new(&self.signer_key()).map_err(AppError::internal)
    }

    fn verifiers(&self) -> Result<VerifierList, AppError> {
        let v = StandardVerifier::new(&self.verifier_key()).map_err(AppError::internal)?;
        Ok(VerifierList::new(vec![Box::new(v)]))
    }

    /// Whether `note` is a checkpoint of this log signed with this key.
    pub fn signed_this(&self, note: &str) -> bool {
        let Ok(verifiers) = self.verifiers() else {
            return false;
        };
        Note::from_bytes(note.as_bytes())
            .ok()
            .and_then(|n| n.verify(&verifiers).ok().map(|_| n))
            .and_then(|n| Checkpoint::from_bytes(n.text()).ok())
            .is_some_and(|c| c.origin() == self.origin)
    }
}

pub fn hash_hex(h: &Hash) -> String {
    hex::encode(h.0)
}

fn parse_hex(s: &str) -> Option<Hash> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(s, &mut h).ok()?;
    Some(Hash(h))
}

fn tlog_err(e: impl std::fmt::Display) -> tlog_tiles::Error {
    tlog_tiles::Error::InvalidInput(e.to_string())
}

/// Stored hashes read from the database, with those computed in this transaction on top.
struct DbHashes<'a, 'c> {
    conn: RefCell<&'a mut &'c mut DbConn>,
    overlay: &'a HashMap<u64, Hash>,
}

impl HashReader for DbHashes<'_, '_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let missing: Vec<i64> = indexes
            .iter()
            .filter(|i| !self.overlay.contains_key(i))
            .map(|&i| i64::try_from(i).map_err(tlog_err))
            .collect::<Result<_, _>>()?;
        let mut found: HashMap<u64, Hash> = HashMap::new();
        if !missing.is_empty() {
            let mut conn = self.conn.borrow_mut();
            for (i, h) in store::read_hashes(&mut conn, &missing).map_err(tlog_err)? {
                let h = parse_hex(&h).ok_or(tlog_tiles::Error::MalformedHash)?;
                found.insert(i as u64, h);
            }
        }
        indexes
            .iter()
            .map(|i| {
                self.overlay
                    .get(i)
                    .or_else(|| found.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Hashes held in memory, by stored index (the verifier's recomputed tree).
struct MemHashes<'a>(&'a [Hash]);

impl HashReader for MemHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Appends records inside the caller's write transaction. Opening it locks the log's head,
/// so the appends of every server form one gap-free sequence; `close` stores the new hashes
/// and the new size in the same transaction as the events.
pub struct Appender {
    start: u64,
    next: u64,
    overlay: HashMap<u64, Hash>,
}

impl Appender {
    pub fn open(conn: &mut DbConn) -> Result<Appender, AppError> {
        let size = store::lock_head(conn)?;
        let size = u64::try_from(size).map_err(AppError::internal)?;
        Ok(Appender {
            start: size,
            next: size,
            overlay: HashMap::new(),
        })
    }

    /// The index the next appended record gets.
    pub fn next_index(&self) -> i64 {
        self.next as i64
    }

    pub fn append(&mut self, mut conn: &mut DbConn, record: &[u8]) -> Result<i64, AppError> {
        let n = self.next;
        let hashes = {
            let reader = DbHashes {
                conn: RefCell::new(&mut conn),
                overlay: &self.overlay,
            };
            tlog_tiles::stored_hashes(n, record, &reader).map_err(AppError::internal)?
        };
        let base = tlog_tiles::stored_hash_index(0, n);
        for (k, h) in hashes.into_iter().enumerate() {
            self.overlay.insert(base + k as u64, h);
        }
        self.next += 1;
        Ok(n as i64)
    }

    pub fn close(self, conn: &mut DbConn) -> Result<(), AppError> {
        if self.next == self.start {
            return Ok(());
        }
        let mut rows: Vec<(i64, String)> = self
            .overlay
            .iter()
            .map(|(i, h)| (*i as i64, hash_hex(h)))
            .collect();
        rows.sort();
        store::insert_hashes(conn, &rows)?;
        store::set_head(conn, self.next as i64)?;
        Ok(())
    }
}

/// The tree's root hash at `size`, from the stored hashes.
pub fn root_at(mut conn: &mut DbConn, size: u64) -> Result<Hash, AppError> {
    let overlay = HashMap::new();
    let reader = DbHashes {
        conn: RefCell::new(&mut conn),
        overlay: &overlay,
    };
    tlog_tiles::tree_hash(size, &reader).map_err(AppError::internal)
}

/// What `take_checkpoint` did.
pub enum Taken {
    New(StoredCheckpoint),
    /// The log has not grown since the latest checkpoint, which stands.
    Unchanged(StoredCheckpoint),
}

/// Signs the log's current head as a C2SP checkpoint and keeps it. Refused when the latest
/// kept checkpoint was not signed by this key (another server's key, or a forged one): this
/// server then serves but takes no checkpoint.
pub fn take_checkpoint(conn: &mut DbConn, key: &LogKey) -> Result<Taken, AppError> {
    let taken = db::write_tx(conn, |c| {
        let size = store::lock_head(c)?;
        let latest = store::latest_checkpoint(c)?;
        if let Some(l) = &latest {
            if !key.signed_this(&l.note) {
                return Err(AppError::Conflict(format!(
                    "The log's latest checkpoint (size {}) was not signed by this server's key {}; no checkpoint is taken.",
                    l.tree_size,
                    key.verifier_key()
                )));
            }
            if l.tree_size == size {
                return Ok(Taken::Unchanged(l.clone()));
            }
        }
        let size_u = u64::try_from(size).map_err(AppError::internal)?;
        let root = root_at(c, size_u)?;
        if let Some(l) = &latest {
            // A checkpoint must extend the last one; a rewritten tree would not.
            let old = Hash::parse_hash(&l.root_hash).map_err(AppError::internal)?;
            let old_size = u64::try_from(l.tree_size).map_err(AppError::internal)?;
            let overlay = HashMap::new();
            let mut cc: &mut DbConn = c;
            let reader = DbHashes {
                conn: RefCell::new(&mut cc),
                overlay: &overlay,
            };
            let proof =
                tlog_tiles::prove_tree(size_u, old_size, &reader).map_err(AppError::internal)?;
            tlog_tiles::check_tree(&proof, size_u, root, old_size, old).map_err(|e| {
                AppError::Internal(anyhow::anyhow!(
                    "the log no longer extends its checkpoint of size {old_size}: {e}"
                ))
            })?;
        }
        let text = Checkpoint::new(key.origin(), size_u, root, "")
            .map_err(AppError::internal)?
            .to_bytes();
        let mut note = Note::new(&text, &[]).map_err(AppError::internal)?;
        let signer = key.signer()?;
        note.add_sigs(&[&signer]).map_err(AppError::internal)?;
        debug_assert_eq!(signer.name(), key.origin());
        let stored = StoredCheckpoint {
            id: db::new_id(),
            tree_size: size,
            root_hash: root.to_string(),
            note: String::from_utf8(note.to_bytes()).map_err(AppError::internal)?,
            created_at: db::now(),
        };
        store::insert_checkpoint(c, &stored)?;
        Ok(Taken::New(stored))
    })?;
    if let Taken::New(_) = taken {
        cache::checkpoint_taken();
    }
    Ok(taken)
}

/// Says at start-up whether this server can checkpoint: a key that did not sign the log's
/// latest checkpoint serves but takes none.
pub fn announce(pool: &waybill_db::Pool, key: &LogKey) {
    let latest = pool
        .get()
        .ok()
        .and_then(|mut c| store::latest_checkpoint(&mut c).ok().flatten());
    match latest {
        Some(l) if !key.signed_this(&l.note) => tracing::warn!(
            key = key.verifier_key(),
            "the tracking log's latest checkpoint was not signed by this server's key: serving, but taking no checkpoint"
        ),
        _ => tracing::info!(key = key.verifier_key(), "tracking log key"),
    }
}

/// Whether this key signed the latest kept checkpoint (or there is none yet).
pub fn can_checkpoint(conn: &mut DbConn, key: &LogKey) -> Result<bool, AppError> {
    Ok(store::latest_checkpoint(conn)?.is_none_or(|l| key.signed_this(&l.note)))
}

/// Takes a checkpoint when the log has grown and the latest one is older than `every`.
pub fn checkpoint_if_due(
    conn: &mut DbConn,
    key: &LogKey,
    every: std::time::Duration,
) -> anyhow::Result<()> {
    let size = store::head_size(conn)?;
    let latest = store::latest_checkpoint(conn)?;
    let due = match &latest {
        None => size > 0,
        Some(l) => {
            l.tree_size < size && (db::now() - l.created_at).to_std().unwrap_or_default() >= every
        }
    };
    if !due {
        return Ok(());
    }
    if !can_checkpoint(conn, key)? {
        tracing::warn!("tracking log: not checkpointing, the latest checkpoint is another key's");
        return Ok(());
    }
    match take_checkpoint(conn, key) {
        Ok(Taken::New(c)) => tracing::info!(size = c.tree_size, "tracking log checkpoint"),
        Ok(Taken::Unchanged(_)) => {}
        Err(e) => anyhow::bail!("tracking log checkpoint: {e}"),
    }
    Ok(())
}
