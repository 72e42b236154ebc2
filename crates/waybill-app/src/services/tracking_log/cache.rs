//! What the public tracking reads keep in memory, per database. The tree's stored hashes never
//! change once written, nor do the logged events (the store refuses edits), so the hashes,
//! and each event's record and inclusion proof at a tree size, are kept, bounded, least
//! recently used first out. The latest checkpoint, which another server or `waybill
//! checkpoint` may replace at any moment, is kept only for `CHECKPOINT_TTL`.

use std::cell::RefCell;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use lru::LruCache;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use tlog_tiles::{Hash, HashReader};

use super::{parse_hex, record_of_row};
use crate::error::AppError;
use waybill_db::DbConn;
use waybill_db::tracking::{self as store, StoredCheckpoint};

/// Stored hashes kept: about 100 bytes each with the LRU's bookkeeping, so ≈ 6.5 MiB, the
/// whole tree of some 32,000 records.
pub const HASH_ENTRIES: usize = 1 << 16;

/// Bytes of log entries kept, as `LogEntry::weight` counts them (≈ 1.45 KB an event in a
/// tree of 20,000 records, 1.7 KB in one of a million): some 20,000–23,000 events.
pub const ENTRY_BYTES: usize = 32 << 20;

/// How long the latest checkpoint is served without asking the database again. One this
/// process took shows at once; one taken elsewhere (the CLI, another server) within this.
pub const CHECKPOINT_TTL: Duration = Duration::from_secs(1);

/// A cached entry's bookkeeping beside its text: LRU node and key, map slot, `Arc` header
/// and allocator rounding.
const ENTRY_OVERHEAD: usize = 128;

/// How many checkpoints this process has taken: a cached checkpoint older than the count is
/// fetched again, so a server's own checkpoint never waits for the TTL.
static CHECKPOINTS_TAKEN: AtomicU64 = AtomicU64::new(0);

pub(super) fn checkpoint_taken() {
    CHECKPOINTS_TAKEN.fetch_add(1, Ordering::AcqRel);
}

/// What the public JSON carries of one logged event at one tree size, as JSON made once:
/// `{"index", "record" (base64 of the exact bytes logged), "inclusion" (the RFC 9162 audit
/// path from the leaf up, base64 hashes)}`. Served as it is, so the hashes are neither
/// encoded nor escaped again; a clone is a reference count.
#[derive(Clone, Debug)]
pub struct LogEntry(Arc<Box<RawValue>>);

impl LogEntry {
    pub fn new(index: u64, record: &[u8], proof: &[Hash]) -> Result<LogEntry, AppError> {
        // Written directly, sized once: besides the index, it is all base64, which JSON
        // strings hold unescaped (and `from_string` checks the result is JSON).
        let mut json = String::with_capacity(64 + record.len() * 4 / 3 + proof.len() * 47);
        json.push_str("{\"index\":");
        json.push_str(&index.to_string());
        json.push_str(",\"record\":\"");
        B64.encode_string(record, &mut json);
        json.push_str("\",\"inclusion\":[");
        for (k, h) in proof.iter().enumerate() {
            json.push_str(if k == 0 { "\"" } else { ",\"" });
            B64.encode_string(h.0, &mut json);
            json.push('"');
        }
        json.push_str("]}");
        let raw = RawValue::from_string(json).map_err(AppError::internal)?;
        Ok(LogEntry(Arc::new(raw)))
    }

    pub fn json(&self) -> &str {
        self.0.get()
    }

    fn weight(&self) -> usize {
        ENTRY_OVERHEAD + self.0.get().len()
    }
}

impl Serialize for LogEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Log entries by (leaf index, tree size), bounded by their total weight.
struct Entries {
    lru: LruCache<(u64, u64), LogEntry, FxBuildHasher>,
    bytes: usize,
    cap: usize,
}

impl Entries {
    fn put(&mut self, key: (u64, u64), entry: LogEntry) {
        self.bytes += entry.weight();
        if let Some(old) = self.lru.put(key, entry) {
            self.bytes -= old.weight();
        }
        while self.bytes > self.cap {
            let Some((_, old)) = self.lru.pop_lru() else {
                break;
            };
            self.bytes -= old.weight();
        }
    }
}

struct Latest {
    fetched: Instant,
    generation: u64,
    checkpoint: Option<Arc<StoredCheckpoint>>,
}

/// The caches of one database (one per app: tests run many side by side).
pub struct TrackingCache {
    hashes: Mutex<LruCache<u64, Hash, FxBuildHasher>>,
    /// The stored hashes below this index were read in ranges (`warm`).
    warmed_to: Mutex<u64>,
    entries: Mutex<Entries>,
    latest: Mutex<Option<Latest>>,
    ttl: Duration,
}

/// A cache stays usable after a panic elsewhere: at worst it holds entries that were correct.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Default for TrackingCache {
    fn default() -> Self {
        TrackingCache::new(HASH_ENTRIES, ENTRY_BYTES, CHECKPOINT_TTL)
    }
}

impl TrackingCache {
    pub fn new(hash_entries: usize, entry_bytes: usize, ttl: Duration) -> TrackingCache {
        TrackingCache {
            hashes: Mutex::new(LruCache::with_hasher(
                NonZeroUsize::new(hash_entries).unwrap_or(NonZeroUsize::MIN),
                FxBuildHasher,
            )),
            warmed_to: Mutex::new(0),
            entries: Mutex::new(Entries {
                lru: LruCache::unbounded_with_hasher(FxBuildHasher),
                bytes: 0,
                cap: entry_bytes,
            }),
            latest: Mutex::new(None),
            ttl,
        }
    }

    /// The latest checkpoint, at most `ttl` old (or newer than this process's last one).
    pub fn latest_checkpoint(
        &self,
        conn: &mut DbConn,
    ) -> Result<Option<Arc<StoredCheckpoint>>, AppError> {
        let generation = CHECKPOINTS_TAKEN.load(Ordering::Acquire);
        if let Some(l) = lock(&self.latest).as_ref() {
            if l.generation == generation && l.fetched.elapsed() < self.ttl {
                return Ok(l.checkpoint.clone());
            }
        }
        let fetched = Instant::now();
        let checkpoint = store::latest_checkpoint(conn)?.map(Arc::new);
        let mut latest = lock(&self.latest);
        // Of two requests refreshing at once, the one that asked last is kept.
        if latest.as_ref().is_none_or(|l| l.fetched <= fetched) {
            *latest = Some(Latest {
                fetched,
                generation,
                checkpoint: checkpoint.clone(),
            });
        }
        Ok(checkpoint)
    }

    /// The log entry of each of a shipment's (id, tracking number) events at `indexes` in the
    /// tree of `size` records: from memory where it was made before; else its record from the
    /// stored events (one query) and its proof from the stored hashes (in memory once `warm`
    /// has read them; else one query for those missing).
    pub fn log_entries(
        &self,
        conn: &mut DbConn,
        size: u64,
        shipment: (&str, &str),
        indexes: &[u64],
    ) -> Result<Vec<LogEntry>, AppError> {
        let (shipment_id, tracking_number) = shipment;
        let mut found: Vec<Option<LogEntry>> = {
            let mut entries = lock(&self.entries);
            indexes
                .iter()
                .map(|&i| entries.lru.get(&(i, size)).cloned())
                .collect()
        };
        let missing: Vec<usize> = (0..indexes.len()).filter(|&k| found[k].is_none()).collect();
        if !missing.is_empty() {
            let at: Vec<u64> = missing.iter().map(|&k| indexes[k]).collect();
            self.warm(conn, size)?;
            let proofs = self.build_proofs(conn, size, &at)?;
            let records = records_of(conn, shipment_id, tracking_number)?;
            for (&k, proof) in missing.iter().zip(proofs) {
                let record = records.get(&indexes[k]).ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!(
                        "log record {} is no stored event of shipment {shipment_id}",
                        indexes[k]
                    ))
                })?;
                found[k] = Some(LogEntry::new(indexes[k], record, &proof)?);
            }
            let mut entries = lock(&self.entries);
            for &k in &missing {
                if let Some(entry) = &found[k] {
                    entries.put((indexes[k], size), entry.clone());
                }
            }
        }
        found
            .into_iter()
            .map(|e| {
                e.ok_or_else(|| AppError::Internal(anyhow::anyhow!("a log entry went missing")))
            })
            .collect()
    }

    /// Reads the stored hashes of the newest records, as many as fill three quarters of the
    /// LRU, in one range query, and then those added since as the checkpoints grow: the
    /// parcels people follow are the recent ones, and their proofs are then built from
    /// memory instead of reading a few hundred scattered hashes each. Concurrent callers wait
    /// for the one reading.
    fn warm(&self, conn: &mut DbConn, size: u64) -> Result<(), AppError> {
        let end = tlog_tiles::stored_hash_count(size);
        let mut warmed_to = lock(&self.warmed_to);
        if *warmed_to >= end {
            return Ok(());
        }
        let room = lock(&self.hashes).cap().get() as u64 / 4 * 3;
        let from = (*warmed_to).max(end.saturating_sub(room));
        let range = i64::try_from(from).map_err(AppError::internal)?
            ..i64::try_from(end).map_err(AppError::internal)?;
        let rows = store::hashes_between(conn, range.start, range.end)?;
        let mut cache = lock(&self.hashes);
        for (i, h) in rows {
            let h = parse_hex(&h).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("stored tree hash {i} is not a hash"))
            })?;
            cache.put(i as u64, h);
        }
        *warmed_to = end;
        Ok(())
    }

    /// Builds the proofs from cached hashes: a pass notes the hashes not in memory, one query
    /// reads them all, the next pass builds. (Which hashes a proof reads depends only on the
    /// index and the size, never on the hashes' values.) A hash the LRU dropped in between is
    /// read in one more round; one the database lacks is an error.
    fn build_proofs(
        &self,
        conn: &mut DbConn,
        size: u64,
        indexes: &[u64],
    ) -> Result<Vec<Vec<Hash>>, AppError> {
        let mut read: FxHashMap<u64, Hash> = FxHashMap::default();
        loop {
            let (proofs, mut missing) = {
                let reader = CachedHashes {
                    cache: RefCell::new(lock(&self.hashes)),
                    read: &read,
                    missing: RefCell::new(Vec::new()),
                };
                let proofs = indexes
                    .iter()
                    .map(|&i| tlog_tiles::prove_record(size, i, &reader))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(AppError::internal)?;
                (proofs, reader.missing.into_inner())
            };
            if missing.is_empty() {
                return Ok(proofs);
            }
            missing.sort_unstable();
            missing.dedup();
            let wanted = missing
                .iter()
                .map(|&i| i64::try_from(i).map_err(AppError::internal))
                .collect::<Result<Vec<_>, _>>()?;
            let rows = store::read_hashes(conn, &wanted)?;
            let mut cache = lock(&self.hashes);
            for (i, h) in rows {
                let h = parse_hex(&h).ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("stored tree hash {i} is not a hash"))
                })?;
                read.insert(i as u64, h);
                cache.put(i as u64, h);
            }
            if let Some(absent) = missing.iter().find(|i| !read.contains_key(i)) {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "the tracking log has no stored hash {absent} (size {size})"
                )));
            }
        }
    }
}

/// The bytes logged for each of a shipment's logged events, by index, rebuilt from the store.
fn records_of(
    conn: &mut DbConn,
    shipment_id: &str,
    tracking_number: &str,
) -> Result<FxHashMap<u64, Vec<u8>>, AppError> {
    Ok(store::record_rows(conn, shipment_id)?
        .into_iter()
        .filter_map(|(r, digest)| {
            let i = u64::try_from(r.log_index?).ok()?;
            Some((i, record_of_row(&r, tracking_number, digest.as_deref())))
        })
        .collect())
}

/// Hashes from memory (those read from the database in this call, then the LRU); an index in
/// neither is noted and read as zeros (the proof built from it is thrown away).
struct CachedHashes<'a> {
    cache: RefCell<MutexGuard<'a, LruCache<u64, Hash, FxBuildHasher>>>,
    read: &'a FxHashMap<u64, Hash>,
    missing: RefCell<Vec<u64>>,
}

impl HashReader for CachedHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let mut cache = self.cache.borrow_mut();
        Ok(indexes
            .iter()
            .map(|&i| {
                self.read
                    .get(&i)
                    .or_else(|| cache.get(&i))
                    .copied()
                    .unwrap_or_else(|| {
                        self.missing.borrow_mut().push(i);
                        Hash([0; 32])
                    })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_entry_is_the_json_of_its_index_record_and_proof() {
        let proof = [Hash([1; 32]), Hash([2; 32])];
        let entry = LogEntry::new(7, b"{}", &proof).unwrap();
        let want = serde_json::json!({
            "index": 7,
            "record": B64.encode(b"{}"),
            "inclusion": [B64.encode([1; 32]), B64.encode([2; 32])],
        });
        let got: serde_json::Value = serde_json::from_str(entry.json()).unwrap();
        assert_eq!(got, want);
        assert_eq!(
            serde_json::to_value(serde_json::json!({ "log": entry })).unwrap(),
            serde_json::json!({ "log": want }),
            "served as it is"
        );
    }

    #[test]
    fn entries_are_dropped_least_recently_used_first_past_the_byte_cap() {
        let one = LogEntry::new(1, b"{}", &[Hash([0; 32]); 3]).unwrap();
        let w = one.weight();
        let mut p = Entries {
            lru: LruCache::unbounded_with_hasher(FxBuildHasher),
            bytes: 0,
            cap: 3 * w,
        };
        for i in 0..3 {
            p.put((i, 10), one.clone());
        }
        assert!(p.lru.get(&(0, 10)).is_some(), "0 is now the most recent");
        p.put((3, 10), one.clone());
        assert_eq!(p.lru.len(), 3);
        assert_eq!(p.bytes, 3 * w);
        assert!(p.lru.peek(&(1, 10)).is_none(), "1 was the least recent");
        p.put((3, 10), one.clone());
        assert_eq!(p.bytes, 3 * w, "a replaced entry is not counted twice");
    }
}
