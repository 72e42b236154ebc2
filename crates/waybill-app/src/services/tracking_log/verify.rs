//! Checking the whole log: every stored event rebuilt into its record, the tree recomputed,
//! and every checkpoint's signature and consistency with the one before.

use crate::error::AppError;
use signed_note::Note;
use std::collections::HashMap;
use tlog_tiles::{Checkpoint, Hash};
use waybill_db::DbConn;
use waybill_db::tracking::{self as store};

use super::*;

/// What the verifier found.
#[derive(Debug)]
pub struct Verification {
    pub events: u64,
    pub checkpoints: usize,
    /// Every problem found, empty when the log checks out: each edited or deleted event and
    /// each altered raw request by name, or else the first disagreement of the stored tree or
    /// a checkpoint.
    pub problems: Vec<String>,
}

impl Verification {
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Where the log disagrees with the store: the events and checkpoints checked up to the
/// first problem, and every problem found.
struct Problem {
    events: u64,
    checkpoints: usize,
    messages: Vec<String>,
}

impl Problem {
    fn one(events: u64, checkpoints: usize, message: String) -> Problem {
        Problem {
            events,
            checkpoints,
            messages: vec![message],
        }
    }
}

/// The tree recomputed from the events as stored.
struct Tree {
    /// Every stored hash of the tree, in storage order.
    hashes: Vec<Hash>,
    /// Each log record's event id and tracking number, by index.
    leaves: Vec<(String, String)>,
}

/// Rebuilds every record from the events as stored, recomputes the tree, compares it with the
/// stored hashes, and checks every kept checkpoint's signature and that it matches the tree
/// (so each later checkpoint extends the earlier ones).
pub fn verify_chain(conn: &mut DbConn, key: &LogKey) -> Result<Verification, AppError> {
    let size = u64::try_from(store::head_size(conn)?).map_err(AppError::internal)?;
    let checked = match rebuild(conn, size)? {
        Ok(tree) => match check_stored_tree(conn, size, &tree.hashes)? {
            Some(p) => Err(p),
            None => check_checkpoints(conn, key, size, &tree)?,
        },
        Err(p) => Err(p),
    };
    Ok(match checked {
        Ok(checkpoints) => Verification {
            events: size,
            checkpoints,
            problems: Vec::new(),
        },
        Err(p) => Verification {
            events: p.events,
            checkpoints: p.checkpoints,
            problems: p.messages,
        },
    })
}

/// The tree rebuilt from the stored events, in chunks. Every event that is missing, does not
/// hash to its logged leaf, or whose raw request changed is a problem; after the first, the
/// rest are still compared leaf by leaf so that all are named, but no tree is built.
fn rebuild(conn: &mut DbConn, size: u64) -> Result<Result<Tree, Problem>, AppError> {
    let mut tree = Tree {
        hashes: Vec::new(),
        leaves: Vec::new(),
    };
    let mut first_bad: Option<u64> = None;
    let mut messages = Vec::new();
    const CHUNK: u64 = 2_000;
    let mut from = 0u64;
    while from < size {
        let to = (from + CHUNK).min(size);
        let events = store::logged_events(conn, from as i64, to as i64)?;
        let stored: HashMap<i64, String> = store::read_hashes(
            conn,
            &(from..to)
                .map(|n| tlog_tiles::stored_hash_index(0, n) as i64)
                .collect::<Vec<_>>(),
        )?
        .into_iter()
        .collect();
        let request_ids: Vec<&str> = events
            .iter()
            .filter_map(|(e, _, _)| e.request_id.as_deref())
            .collect();
        let bodies: HashMap<String, String> = store::requests(conn, &request_ids)?
            .into_iter()
            .map(|r| (r.id.clone(), crate::security::sha256_hex(&r.body)))
            .collect();
        let mut it = events.iter().peekable();
        for n in from..to {
            let mut bad = |message: String| {
                first_bad.get_or_insert(n);
                messages.push(message);
            };
            let Some((e, number, digest)) = it.next_if(|(e, _, _)| e.log_index == Some(n as i64))
            else {
                bad(format!(
                    "log record {n}: its event is missing from the store (deleted)"
                ));
                continue;
            };
            let record = record_of(e, number, digest.as_deref());
            let leaf = tlog_tiles::record_hash(&record);
            let at = tlog_tiles::stored_hash_index(0, n) as i64;
            if stored.get(&at).and_then(|h| parse_hex(h)) != Some(leaf) {
                bad(format!(
                    "event {} (log record {n}, {number}) does not match what was logged: it was edited",
                    e.id
                ));
            }
            if let (Some(rid), Some(d)) = (&e.request_id, digest) {
                if bodies.get(rid) != Some(d) {
                    bad(format!(
                        "event {} (log record {n}, {number}): its raw request {rid} was altered",
                        e.id
                    ));
                }
            }
            if first_bad.is_none() {
                let hashes = tlog_tiles::stored_hashes(n, &record, &MemHashes(&tree.hashes))
                    .map_err(AppError::internal)?;
                tree.hashes.extend(hashes);
                tree.leaves.push((e.id.clone(), number.clone()));
            }
        }
        from = to;
    }
    Ok(match first_bad {
        None => Ok(tree),
        Some(events) => Err(Problem {
            events,
            checkpoints: 0,
            messages,
        }),
    })
}

/// Stored interior hashes serve the proofs buyers check: they must be the recomputed ones,
/// and no stored event may be outside the log.
fn check_stored_tree(
    conn: &mut DbConn,
    size: u64,
    hashes: &[Hash],
) -> Result<Option<Problem>, AppError> {
    let problem = |message| Some(Problem::one(size, 0, message));
    let stored_all = store::all_hashes(conn, hashes.len() as i64)?;
    if stored_all.len() != hashes.len() {
        return Ok(problem(format!(
            "the log keeps {} stored hashes where {} records need {}",
            stored_all.len(),
            size,
            hashes.len()
        )));
    }
    for (i, h) in &stored_all {
        if parse_hex(h) != hashes.get(*i as usize).copied() {
            return Ok(problem(format!("stored tree hash {i} was altered")));
        }
    }
    if let Some(stray) = store::unlogged_events(conn)?.first() {
        return Ok(problem(format!(
            "event {stray} is in the store but not in the log"
        )));
    }
    Ok(None)
}

/// Every kept checkpoint: signed by this log's key, of this log, matching the tree as
/// rebuilt, and extending the one before it. How many were checked, or the first problem.
fn check_checkpoints(
    conn: &mut DbConn,
    key: &LogKey,
    size: u64,
    tree: &Tree,
) -> Result<Result<usize, Problem>, AppError> {
    let reader = MemHashes(&tree.hashes);
    let checkpoints = store::checkpoints(conn)?;
    let verifiers = key.verifiers()?;
    let mut good_size = 0u64;
    let mut prev: Option<(u64, Hash)> = None;
    for (k, cp) in checkpoints.iter().enumerate() {
        let fail = |message| Ok(Err(Problem::one(size, k, message)));
        let what = format!(
            "checkpoint {} (size {}, {})",
            k + 1,
            cp.tree_size,
            cp.created_at
        );
        let note = match Note::from_bytes(cp.note.as_bytes()) {
            Ok(n) => n,
            Err(e) => return fail(format!("{what} is not a signed note: {e}")),
        };
        if note.verify(&verifiers).is_err() {
            return fail(format!(
                "{what} is not signed by this log's key {}",
                key.verifier_key()
            ));
        }
        let Ok(c) = Checkpoint::from_bytes(note.text()) else {
            return fail(format!("{what} is not a tlog checkpoint"));
        };
        if c.origin() != key.origin() || c.size() > size || c.size() as i64 != cp.tree_size {
            return fail(format!(
                "{what} names another log or a size beyond the log's {size}"
            ));
        }
        let root = tlog_tiles::tree_hash(c.size(), &reader).map_err(AppError::internal)?;
        if root != *c.hash() {
            let range_start = good_size.min(c.size());
            let first = tree
                .leaves
                .get(range_start as usize)
                .map(|(id, number)| format!("event {id} ({number})"))
                .unwrap_or_default();
            return fail(format!(
                "{what} does not match the events as stored: history was rewritten among log records {range_start}..{}; the first possibly bad event is {first}",
                c.size()
            ));
        }
        if let Some((ps, ph)) = prev {
            if c.size() < ps {
                return fail(format!("{what} is smaller than the checkpoint before it"));
            }
            let proof =
                tlog_tiles::prove_tree(c.size(), ps, &reader).map_err(AppError::internal)?;
            if tlog_tiles::check_tree(&proof, c.size(), root, ps, ph).is_err() {
                return fail(format!("{what} does not extend the checkpoint before it"));
            }
        }
        good_size = good_size.max(c.size());
        prev = Some((c.size(), root));
    }
    Ok(Ok(checkpoints.len()))
}
